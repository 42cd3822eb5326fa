import { FileSystem, Path } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Redacted, Ref, TestClock, TestServices } from "effect"
import { spawnSync } from "node:child_process"
import * as fsp from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import { apiKeyAuth } from "../src/domain/StoredAuth.js"
import * as FileStore from "../src/layers/FileStore.js"
import { chatgptAuth, credentialStoreContract } from "./CredentialStore.contract.js"
import { fixedChatgptAuth } from "./support/records.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fsp.mkdtemp(join(tmpdir(), "devicecode-filestore-"))),
  (dir) => Effect.promise(() => fsp.rm(dir, { recursive: true, force: true }))
)

const storeAt = (authPath: string) => FileStore.make(authPath).pipe(Effect.provide(Platform))

const mode = (path: string) => Effect.promise(() => fsp.stat(path)).pipe(Effect.map((s) => s.mode & 0o777))
const readText = (path: string) => Effect.promise(() => fsp.readFile(path, "utf8"))
const writeText = (path: string, text: string, fileMode = 0o600) =>
  Effect.promise(() => fsp.writeFile(path, text, { mode: fileMode }))
const list = (dir: string) => Effect.promise(() => fsp.readdir(dir))
const exists = (path: string) =>
  Effect.promise(() =>
    fsp.access(path).then(
      () => true,
      () => false
    )
  )

const waitUntil = (condition: Effect.Effect<boolean>) =>
  Effect.gen(function* () {
    while (!(yield* condition)) yield* TestServices.provideLive(Effect.sleep("10 millis"))
  })

const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid ?? 2 ** 22 + 1

credentialStoreContract(
  "FileStore",
  Effect.flatMap(tempDir, (dir) => storeAt(join(dir, "codex", "auth.json")))
)

describe("FileStore", () => {
  it.scoped("writes codex's exact bytes for a ChatGPT sign-in", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const store = yield* storeAt(authPath)
      yield* store.save(fixedChatgptAuth)
      assert.strictEqual(
        yield* readText(authPath),
        `{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "id.jwt",
    "access_token": "access.jwt",
    "refresh_token": "rt_opaque",
    "account_id": "acct-1"
  },
  "last_refresh": "2026-04-25T12:34:56.123Z"
}`
      )
    })
  )

  it.scoped("writes codex's exact bytes for an API key", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const store = yield* storeAt(authPath)
      yield* store.save(apiKeyAuth(Redacted.make("sk-test")))
      assert.strictEqual(yield* readText(authPath), `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-test"\n}`)
      assert.strictEqual(store.location, `file ${authPath}`)
    })
  )

  it.scoped("keeps unknown fields, top-level and inside tokens, on rewrite", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(
        authPath,
        JSON.stringify({
          auth_mode: "chatgpt",
          OPENAI_API_KEY: null,
          tokens: { id_token: "a", access_token: "b", refresh_token: "c", account_id: null, future_token: "x" },
          last_refresh: "2026-04-25T12:34:56.123Z",
          new_top: { nested: [1, 2] }
        })
      )
      const store = yield* storeAt(authPath)
      const loaded = yield* store.load
      assert.isTrue(Option.isSome(loaded))
      if (Option.isSome(loaded)) yield* store.save(loaded.value)
      const json = JSON.parse(yield* readText(authPath))
      assert.strictEqual(json.tokens.future_token, "x")
      assert.deepStrictEqual(json.new_top, { nested: [1, 2] })
      assert.strictEqual(json.tokens.access_token, "b")
    })
  )

  it.scoped("creates a missing directory 0700 and the file 0600; a 0644 file becomes 0600", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const home = join(dir, "home")
      const authPath = FileStore.authJsonPath(home)
      const store = yield* storeAt(authPath)
      yield* store.save(chatgptAuth("access-1"))
      assert.strictEqual(yield* mode(home), 0o700)
      assert.strictEqual(yield* mode(authPath), 0o600)

      const loosePath = join(dir, "auth.json")
      yield* writeText(loosePath, "{}", 0o644)
      yield* Effect.promise(() => fsp.chmod(loosePath, 0o644))
      assert.strictEqual(yield* mode(loosePath), 0o644)
      const loose = yield* storeAt(loosePath)
      yield* loose.save(chatgptAuth("access-1"))
      assert.strictEqual(yield* mode(loosePath), 0o600)
      assert.strictEqual(yield* mode(dir), 0o700)
    })
  )

  it.scoped("a failure between write and rename leaves the old file whole and no temp file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const before = `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-old"\n}`
      yield* writeText(authPath, before)
      const FailingRename = Layer.effect(
        FileSystem.FileSystem,
        Effect.map(FileSystem.FileSystem, (fs) => ({
          ...fs,
          rename: (from: string) =>
            Effect.fail(
              new SystemError({ reason: "Unknown", module: "FileSystem", method: "rename", pathOrDescriptor: from })
            )
        }))
      ).pipe(Layer.provide(NodeFileSystem.layer))
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Layer.merge(FailingRename, NodePath.layer)))
      const error = yield* store.save(chatgptAuth("access-new")).pipe(Effect.flip)
      assert.instanceOf(error, StoreError)
      assert.strictEqual(error.reason, "Io")
      assert.strictEqual(yield* readText(authPath), before)
      assert.deepStrictEqual(yield* list(dir), ["auth.json"])
    })
  )

  it.scoped("a corrupt file fails with Corrupt naming the path, not the content", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, `{"tokens": {"access_token": "sk-secret-value"`)
      const store = yield* storeAt(authPath)
      const error = yield* store.load.pipe(Effect.flip)
      assert.strictEqual(error.reason, "Corrupt")
      assert.include(error.message, authPath)
      assert.notInclude(error.message, "sk-secret-value")

      yield* writeText(authPath, `{"tokens": 5`)
      const again = yield* store.load.pipe(Effect.flip)
      assert.strictEqual(again.reason, "Corrupt")
      assert.include(again.message, authPath)
      assert.include(again.message, "not valid JSON")
    })
  )

  it.scoped("a missing file loads as none; other I/O failures are Io", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const store = yield* storeAt(FileStore.authJsonPath(dir))
      assert.isTrue(Option.isNone(yield* store.load))
      const asDir = join(dir, "isdir")
      yield* Effect.promise(() => fsp.mkdir(join(asDir, "auth.json"), { recursive: true }))
      const broken = yield* storeAt(FileStore.authJsonPath(asDir))
      const error = yield* broken.load.pipe(Effect.flip)
      assert.strictEqual(error.reason, "Io")
    })
  )

  it.scopedLive("takes over a lock file whose pid is dead", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const lockPath = `${authPath}.devicecode.lock`
      yield* writeText(lockPath, JSON.stringify({ pid: deadPid(), time: Date.now(), id: "dead" }))
      const store = yield* storeAt(authPath)
      const seen = yield* store.locked(readText(lockPath))
      assert.strictEqual(JSON.parse(seen).pid, process.pid)
      assert.isFalse(yield* exists(lockPath))
    })
  )

  it.scopedLive("takes over a lock file older than 60 s even if its pid is alive", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const lockPath = `${authPath}.devicecode.lock`
      yield* writeText(lockPath, JSON.stringify({ pid: process.pid, time: Date.now() - 120_000, id: "old" }))
      const store = yield* storeAt(authPath)
      assert.strictEqual(yield* store.locked(Effect.succeed("ran")), "ran")
      assert.isFalse(yield* exists(lockPath))
    })
  )

  it.scopedLive("two store instances on one path exclude each other through the lock file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const lockPath = `${authPath}.devicecode.lock`
      const first = yield* storeAt(authPath)
      const second = yield* storeAt(authPath)
      const events = yield* Ref.make<ReadonlyArray<string>>([])
      const log = (event: string) => Ref.update(events, (all) => [...all, event])
      const holding = yield* Effect.fork(
        first.locked(Effect.zipRight(log("first start"), Effect.zipRight(Effect.sleep("300 millis"), log("first end"))))
      )
      yield* waitUntil(exists(lockPath))
      const waiting = yield* Effect.fork(second.locked(log("second")))
      yield* Fiber.join(holding)
      yield* Fiber.join(waiting)
      assert.deepStrictEqual(yield* Ref.get(events), ["first start", "first end", "second"])
      assert.isFalse(yield* exists(lockPath))
    })
  )

  it.scoped("gives up with Locked after 45 s behind a live holder", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const lockPath = `${authPath}.devicecode.lock`
      yield* writeText(lockPath, JSON.stringify({ pid: process.pid, time: 0, id: "held" }))
      const store = yield* storeAt(authPath)
      const fiber = yield* Effect.fork(store.locked(Effect.void))
      // The waiter does real file I/O between sleeps, so move the clock in steps until it gives up.
      while (Option.isNone(yield* Fiber.poll(fiber))) {
        yield* TestClock.adjust("1 second")
        yield* TestServices.provideLive(Effect.sleep("10 millis"))
      }
      assert.isAtLeast(yield* TestClock.currentTimeMillis, 45_000)
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.strictEqual(error.reason, "Locked")
      assert.include(error.message, String(process.pid))
      assert.isTrue(yield* exists(lockPath))
    })
  )

  it.scopedLive("releases the lock file when the locked effect is interrupted", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const lockPath = `${authPath}.devicecode.lock`
      const store = yield* storeAt(authPath)
      const fiber = yield* Effect.fork(store.locked(Effect.never))
      yield* waitUntil(exists(lockPath))
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      assert.isFalse(yield* exists(lockPath))
    })
  )
})

describe("FileStore.layer", () => {
  it.scoped("provides a CredentialStore over FileSystem and Path", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const store = yield* FileStore.make(authPath)
      yield* store.save(chatgptAuth("access-1"))
      assert.isTrue(yield* exists(authPath))
      const path = yield* Path.Path
      assert.strictEqual(path.basename(authPath), "auth.json")
    }).pipe(Effect.provide(Platform))
  )
})
