import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { SystemError } from "@effect/platform/Error"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option } from "effect"
import { execFileSync } from "node:child_process"
import * as fsp from "node:fs/promises"
import { join } from "node:path"
import * as FileStore from "../src/layers/FileStore.js"
import { loadCodexConfig } from "../src/layers/Config.js"
import { plainIoError, readRegularFile, warnIfExposed } from "../src/layers/localFile.js"
import { chatgptAuth } from "./CredentialStore.contract.js"
import { tempDir } from "./support/tmp.js"

// Hostile local files: FIFOs, devices, deep nesting, huge files and symbolic links where devicecode reads or writes.

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const storeAt = (authPath: string) => FileStore.make(authPath).pipe(Effect.provide(Platform))

const mkfifo = (file: string) => Effect.sync(() => execFileSync("mkfifo", [file]))
const fsOp = <A>(f: () => Promise<A>) => Effect.promise(f)
const modeOf = (file: string) => fsOp(() => fsp.stat(file)).pipe(Effect.map((s) => s.mode & 0o777))
const exists = (file: string) =>
  fsOp(() =>
    fsp.lstat(file).then(
      () => true,
      () => false
    )
  )

/** `depth` nested arrays: `[[[…]]]`. */
const deeplyNested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)

/** The store's load fails as unreadable (Corrupt) naming `problem`, and setAside moves it away, leaving nothing. */
const unreadableAndSetAside = (authPath: string, problem: string) =>
  Effect.gen(function* () {
    const store = yield* storeAt(authPath)
    const error = yield* store.load.pipe(Effect.flip)
    assert.strictEqual(error.reason, "Corrupt")
    assert.include(error.message, problem)
    const keptAs = yield* store.setAside
    assert.isTrue(Option.isSome(keptAs))
    assert.isFalse(yield* exists(authPath))
    assert.isTrue(Option.isNone(yield* store.load))
    return Option.getOrThrow(keptAs)
  })

describe("local files", () => {
  it.scoped("an auth.json FIFO is unreadable at once, never waited on, and set aside", () =>
    Effect.gen(function* () {
      const authPath = FileStore.authJsonPath(yield* tempDir)
      yield* mkfifo(authPath)
      yield* unreadableAndSetAside(authPath, "a FIFO, not a regular file")
    })
  )

  it.scoped("an auth.json linked to /dev/zero is unreadable (a device); the link is moved aside, /dev/zero kept", () =>
    Effect.gen(function* () {
      const authPath = FileStore.authJsonPath(yield* tempDir)
      const before = yield* modeOf("/dev/zero")
      yield* fsOp(() => fsp.symlink("/dev/zero", authPath))
      const keptAs = yield* unreadableAndSetAside(authPath, "a device, not a regular file")
      assert.strictEqual(yield* fsOp(() => fsp.readlink(keptAs)), "/dev/zero")
      assert.strictEqual(yield* modeOf("/dev/zero"), before)
    })
  )

  it.scoped("an auth.json of 200,000 nested arrays is unreadable (nested too deeply), no stack overflow", () =>
    Effect.gen(function* () {
      const authPath = FileStore.authJsonPath(yield* tempDir)
      yield* fsOp(() => fsp.writeFile(authPath, deeplyNested(200_000), { mode: 0o600 }))
      yield* unreadableAndSetAside(authPath, "nested too deeply")
    })
  )

  it.scoped("an auth.json over 1 MiB is unreadable (larger than 1 MiB)", () =>
    Effect.gen(function* () {
      const authPath = FileStore.authJsonPath(yield* tempDir)
      yield* fsOp(() => fsp.writeFile(authPath, " ".repeat(1024 * 1024 + 1), { mode: 0o600 }))
      yield* unreadableAndSetAside(authPath, "larger than 1 MiB")
    })
  )

  it.scoped("an auth.json directory is unreadable and set aside", () =>
    Effect.gen(function* () {
      const authPath = FileStore.authJsonPath(yield* tempDir)
      yield* fsOp(() => fsp.mkdir(authPath))
      yield* unreadableAndSetAside(authPath, "a directory, not a regular file")
    })
  )

  it.scoped(
    "an unreadable auth.json linked to another file (0644): set aside and saved over, the target untouched",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const other = join(dir, "notes.txt")
        yield* fsOp(() => fsp.writeFile(other, "not json"))
        yield* fsOp(() => fsp.chmod(other, 0o644))
        yield* fsOp(() => fsp.symlink(other, authPath))
        const keptAs = yield* unreadableAndSetAside(authPath, "not valid JSON")
        assert.strictEqual(yield* fsOp(() => fsp.readlink(keptAs)), other)
        assert.strictEqual(yield* modeOf(other), 0o644)

        // a save with the link still there replaces the link, never writes or chmods through it
        yield* fsOp(() => fsp.rename(keptAs, authPath))
        const store = yield* storeAt(authPath)
        yield* store.save(chatgptAuth("access-1"))
        assert.strictEqual(yield* modeOf(other), 0o644)
        assert.strictEqual(yield* fsOp(() => fsp.readFile(other, "utf8")), "not json")
        const info = yield* fsOp(() => fsp.lstat(authPath))
        assert.isTrue(info.isFile())
        assert.strictEqual(info.mode & 0o777, 0o600)
        assert.isTrue(Option.isSome(yield* store.load))
      })
  )

  for (const lockName of ["auth.json.lock", "auth.lock", "auth.json.refresh.lock"]) {
    it.scoped(`a dangling ${lockName} symlink is refused, naming it, and creates nothing where it points`, () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const pointee = join(dir, "elsewhere")
        yield* fsOp(() => fsp.symlink(pointee, join(dir, lockName)))
        const store = yield* storeAt(authPath)
        const error = yield* store.exclusive(store.locked(store.save(chatgptAuth("access-1")))).pipe(Effect.flip)
        assert.strictEqual(error._tag, "StoreError")
        assert.strictEqual(error.reason, "Io")
        assert.include(error.message, join(dir, lockName))
        assert.include(error.message, "symbolic link")
        assert.isFalse(yield* exists(pointee))
        assert.isTrue(Either.isLeft(yield* Effect.either(store.preflight)))
        assert.isFalse(yield* exists(pointee))
      })
    )
  }

  it.scoped("both codex lock files linked to one file: refused at once, never a wait on ourselves", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const shared = join(dir, "shared.lock")
      yield* fsOp(() => fsp.writeFile(shared, ""))
      yield* fsOp(() => fsp.symlink(shared, join(dir, "auth.lock")))
      yield* fsOp(() => fsp.symlink(shared, join(dir, "auth.json.lock")))
      const store = yield* storeAt(authPath)
      const error = yield* store.locked(store.save(chatgptAuth("access-1"))).pipe(Effect.flip)
      assert.strictEqual(error.reason, "Io")
      assert.include(error.message, "symbolic link")
    })
  )

  it.scoped("a config.toml FIFO is a ConfigError at once", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* mkfifo(join(dir, "config.toml"))
      const error = yield* loadCodexConfig(dir).pipe(Effect.provide(Platform), Effect.flip)
      assert.strictEqual(error._tag, "ConfigError")
      assert.include(error.message, "a FIFO, not a regular file")
    })
  )

  it.scoped("a config.toml over 1 MiB is a ConfigError", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* fsOp(() => fsp.writeFile(join(dir, "config.toml"), "#".repeat(1024 * 1024 + 1)))
      const error = yield* loadCodexConfig(dir).pipe(Effect.provide(Platform), Effect.flip)
      assert.include(error.message, "larger than 1 MiB")
    })
  )

  it.effect("readRegularFile reads a regular file and refuses a link when told not to follow", () =>
    Effect.gen(function* () {
      const read = yield* readRegularFile("/dev/null").pipe(Effect.flip)
      assert.strictEqual(read.reason, "NotRegular")
      const missing = yield* readRegularFile("/nonexistent/devicecode")
      assert.isTrue(Option.isNone(missing))
    })
  )

  it("plainIoError speaks plain words for errno codes and platform errors", () => {
    assert.strictEqual(plainIoError({ code: "ENOSPC" }), "the disk is full (ENOSPC)")
    assert.strictEqual(plainIoError({ code: "EACCES" }), "permission denied (EACCES)")
    assert.strictEqual(plainIoError({ code: "EROFS" }), "the file system is read-only (EROFS)")
    const platform = new SystemError({
      reason: "Unknown",
      module: "FileSystem",
      method: "writeAll",
      pathOrDescriptor: 21,
      description: "ENOSPC: no space left on device, write",
      cause: Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC" })
    })
    assert.strictEqual(plainIoError(platform), "the disk is full (ENOSPC)")
    const bad = new SystemError({ reason: "BadResource", module: "FileSystem", method: "open", description: "x" })
    assert.notInclude(plainIoError(bad), "FileSystem")
  })

  it.scoped("warns once when CODEX_HOME is writable by everyone without the sticky bit", () =>
    Effect.gen(function* () {
      const open = yield* tempDir
      const sticky = yield* tempDir
      yield* fsOp(() => fsp.chmod(open, 0o777))
      yield* fsOp(() => fsp.chmod(sticky, 0o1777))
      const warnings: Array<string> = []
      const warn = (message: string) => Effect.sync(() => void warnings.push(message))
      yield* warnIfExposed(open, warn)
      yield* warnIfExposed(open, warn)
      yield* warnIfExposed(sticky, warn)
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, `${open} is writable by every user`)
    })
  )

  it.scoped("warns when CODEX_HOME is owned by another user", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const other = (process.getuid?.() ?? 0) === 0 ? 12345 : undefined
      if (other === undefined) return // only root can give a directory away
      yield* fsOp(() => fsp.chown(dir, other, other))
      const warnings: Array<string> = []
      yield* warnIfExposed(dir, (message) => Effect.sync(() => void warnings.push(message)))
      assert.deepStrictEqual(warnings.length, 1)
      assert.include(warnings[0]!, `${dir} is owned by another user (uid ${other})`)
    })
  )
})
