import { FileSystem } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Logger, LogLevel, Option, TestClock, TestServices } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import * as fsp from "node:fs/promises"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import * as CodexLock from "../src/layers/CodexLock.js"
import * as FileStore from "../src/layers/FileStore.js"
import { loadFsExt, withFallbackWarning } from "../src/layers/flock.js"
import { chatgptAuth } from "./CredentialStore.contract.js"
import { assertExclusion, spiedFlock } from "./support/exclusion.js"
import { tempDir } from "./support/tmp.js"

// The other program is util-linux flock(1): the same flock(2) on the same files as codex 0.169.

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

/** `flock -n FILE true`: 0 when nobody holds FILE's lock, 1 when another open file does. */
const probe = (file: string): Effect.Effect<number | null> =>
  Effect.async((resume) => {
    const child = spawn("flock", ["-n", file, "true"], { stdio: "ignore" })
    child.once("error", (error) => resume(Effect.die(error)))
    child.once("exit", (code) => resume(Effect.succeed(code)))
  })

/** Waits, a look every 10 ms of real time and 1,000 looks at most, until `check` holds (on TestClock too). */
const eventually = (what: string, check: Effect.Effect<boolean>): Effect.Effect<void> =>
  check.pipe(
    Effect.tap((ok) => (ok ? Effect.void : TestServices.provideLive(Effect.sleep("10 millis")))),
    Effect.repeat({ until: (ok) => ok, times: 1000 }),
    Effect.flatMap((ok) => (ok ? Effect.void : Effect.dieMessage(`not within 10 s: ${what}`)))
  )

const exited = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

/**
 * Another program holding `file`'s lock: `flock FILE sh -c 'read _; : > FILE.released'` — it holds the lock until we
 * `release` it (close its stdin), writes a marker while still holding it, then exits. Killed with the scope.
 */
const holder = (file: string) =>
  Effect.gen(function* () {
    const marker = `${file}.released`
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn("flock", [file, "sh", "-c", `read _; : > '${marker}'`], { stdio: ["pipe", "ignore", "ignore"] })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    yield* eventually(
      `another program holds ${file}`,
      Effect.map(probe(file), (code) => code === 1)
    )
    return {
      marker,
      release: Effect.zipRight(
        Effect.sync(() => child.stdin?.end()),
        exited(child)
      )
    }
  })

const exists = (path: string) =>
  Effect.promise(() =>
    fsp.access(path).then(
      () => true,
      () => false
    )
  )

/** A FileStore in a fresh CODEX_HOME whose auth.lock another program (flock(1)) holds, over a counting flock. */
const storeBehindHolder = Effect.gen(function* () {
  const dir = yield* tempDir
  const authPath = FileStore.authJsonPath(dir)
  const { outer } = CodexLock.lockFiles(authPath)
  const other = yield* holder(outer)
  const { counts, source } = yield* spiedFlock
  const store = yield* FileStore.make(authPath, { flock: source }).pipe(Effect.provide(Platform))
  return { dir, authPath, outer, other, counts, store }
})

describe("flock(2) from fs-ext", () => {
  it.scoped("loads here (npm ci built it), and two open files of one process exclude each other", () =>
    Effect.gen(function* () {
      const flock = yield* loadFsExt
      const dir = yield* tempDir
      const file = join(dir, "auth.lock")
      const open = Effect.acquireRelease(
        Effect.promise(() => fsp.open(file, "a")),
        (handle) => Effect.promise(() => handle.close())
      )
      const a = yield* open
      const b = yield* open
      assert.isTrue(flock.tryLock(a.fd))
      assert.isFalse(flock.tryLock(b.fd))
      assert.strictEqual(yield* probe(file), 1)
      flock.unlock(a.fd)
      assert.isTrue(flock.tryLock(b.fd))
      yield* Effect.promise(() => b.close())
      assert.strictEqual(yield* probe(file), 0)
    })
  )
})

describe("FileStore locks as codex does, against another program's flock", () => {
  it.scopedLive("another program holds auth.lock: locked waits and enters only after it let go", () =>
    Effect.gen(function* () {
      const { counts, other, store } = yield* storeBehindHolder
      const fiber = yield* Effect.fork(store.locked(exists(other.marker)))
      yield* eventually(
        "locked found auth.lock held",
        Effect.sync(() => counts.busy > 0)
      )
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* other.release
      assert.isTrue(yield* Fiber.join(fiber), "entered only after the other program was done")
    })
  )

  it.scopedLive(
    "inside locked: auth.lock is held, auth.json.lock is free; during a save only auth.json.lock is held",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const { inner, outer } = CodexLock.lockFiles(authPath)
        assert.deepStrictEqual({ inner, outer }, { inner: join(dir, "auth.json.lock"), outer: join(dir, "auth.lock") })

        const renaming = yield* Deferred.make<void>()
        const gate = yield* Deferred.make<void>()
        const GatedRename = Layer.effect(
          FileSystem.FileSystem,
          Effect.map(FileSystem.FileSystem, (fs) => ({
            ...fs,
            rename: (from: string, to: string) =>
              Deferred.succeed(renaming, undefined).pipe(
                Effect.zipRight(Deferred.await(gate)),
                Effect.zipRight(fs.rename(from, to))
              )
          }))
        ).pipe(Layer.provide(NodeFileSystem.layer))
        const store = yield* FileStore.make(authPath).pipe(Effect.provide(Layer.merge(GatedRename, NodePath.layer)))

        const during = yield* store.locked(Effect.all([probe(outer), probe(inner)]))
        assert.deepStrictEqual(during, [1, 0])

        const saving = yield* Effect.fork(store.save(chatgptAuth("access-1")))
        yield* Deferred.await(renaming)
        assert.deepStrictEqual(yield* Effect.all([probe(outer), probe(inner)]), [0, 1])
        yield* Deferred.succeed(gate, undefined)
        yield* Fiber.join(saving)
        assert.deepStrictEqual(yield* Effect.all([probe(outer), probe(inner)]), [0, 0])
        assert.isTrue(yield* exists(authPath))
      })
  )

  it.scopedLive(
    "inside exclusive only auth.json.refresh.lock is held; codex's two are free until locked and a save take them",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const { inner, outer, refresh } = CodexLock.lockFiles(authPath)
        assert.strictEqual(refresh, join(dir, "auth.json.refresh.lock"))
        const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
        const all = Effect.all([probe(refresh), probe(outer), probe(inner)])
        assert.deepStrictEqual(yield* store.exclusive(all), [1, 0, 0])
        assert.deepStrictEqual(yield* store.exclusive(store.locked(all)), [1, 1, 0])
        assert.deepStrictEqual(yield* all, [0, 0, 0])
      })
  )

  it.scopedLive("another program holds auth.lock: exclusive enters at once, and locked inside it waits", () =>
    Effect.gen(function* () {
      const { counts, other, store } = yield* storeBehindHolder
      assert.strictEqual(yield* store.exclusive(Effect.succeed("entered")), "entered")
      assert.strictEqual(counts.busy, 0, "the refresh lock is not codex's")
      const fiber = yield* Effect.fork(store.exclusive(store.locked(exists(other.marker))))
      yield* eventually(
        "locked found auth.lock held",
        Effect.sync(() => counts.busy > 0)
      )
      yield* other.release
      assert.isTrue(yield* Fiber.join(fiber))
    })
  )

  /** Another program holds auth.json.lock while `save` (made uninterruptible or not) waits for it. */
  const saveBehindHolder = (wrap: <A, E>(self: Effect.Effect<A, E>) => Effect.Effect<A, E>) =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const { inner } = CodexLock.lockFiles(authPath)
      yield* holder(inner)
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const fiber = yield* Effect.fork(wrap(store.save(chatgptAuth("access-1"))))
      yield* eventually(
        "save is waiting on the TestClock",
        Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > 0)
      )
      return { dir, inner, fiber }
    })

  it.scoped("another program holds auth.json.lock: save gives up with Locked after 5 s and writes nothing", () =>
    Effect.gen(function* () {
      const { dir, fiber, inner } = yield* saveBehindHolder((self) => self)
      yield* TestClock.adjust("4999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.instanceOf(error, StoreError)
      assert.strictEqual(error.reason, "Locked")
      assert.include(error.message, inner)
      assert.deepStrictEqual(yield* Effect.promise(() => fsp.readdir(dir)), ["auth.json.lock"])
    })
  )

  it.scoped("the same wait inside an uninterruptible region (the save of an answered refresh) still ends at 5 s", () =>
    Effect.gen(function* () {
      const { fiber, inner } = yield* saveBehindHolder(Effect.uninterruptible)
      yield* TestClock.adjust("5 seconds")
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.strictEqual(error.reason, "Locked")
      assert.include(error.message, inner)
    })
  )

  it.scopedLive("a holder killed with SIGKILL leaves no lock behind: the next locked takes auth.lock at once", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const { outer } = CodexLock.lockFiles(authPath)
      // -o: the lock is flock's own, not inherited by sleep; its own process group, so the kill reaches both.
      const child = yield* Effect.acquireRelease(
        Effect.sync(() => spawn("flock", ["-o", outer, "sleep", "60"], { stdio: "ignore", detached: true })),
        (child) => Effect.ignore(Effect.try(() => process.kill(-child.pid!, "SIGKILL")))
      )
      yield* eventually(
        "the holder holds auth.lock",
        Effect.map(probe(outer), (code) => code === 1)
      )
      process.kill(-child.pid!, "SIGKILL")
      yield* exited(child)
      const { counts, source } = yield* spiedFlock
      const store = yield* FileStore.make(authPath, { flock: source }).pipe(Effect.provide(Platform))
      assert.strictEqual(yield* store.locked(Effect.succeed("entered")), "entered")
      assert.strictEqual(counts.busy, 0, "the first try took the lock")
    })
  )

  it.scopedLive("waiting for auth.lock can be interrupted, and leaves the lock to its holder", () =>
    Effect.gen(function* () {
      const { counts, other, outer, store } = yield* storeBehindHolder
      const fiber = yield* Effect.fork(store.locked(Effect.void))
      yield* eventually(
        "locked found auth.lock held",
        Effect.sync(() => counts.busy > 0)
      )
      assert.isTrue(Exit.isInterrupted(yield* Fiber.interrupt(fiber)))
      assert.strictEqual(yield* probe(outer), 1)
      yield* other.release
      assert.strictEqual(yield* probe(outer), 0)
    })
  )

  it.scopedLive("a named profile locks auth.<name>.lock, auth.<name>.json.lock and auth.<name>.json.refresh.lock", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir, "work")
      const { inner, outer, refresh } = CodexLock.lockFiles(authPath)
      assert.deepStrictEqual(
        { inner, outer, refresh },
        {
          inner: join(dir, "auth.work.json.lock"),
          outer: join(dir, "auth.work.lock"),
          refresh: join(dir, "auth.work.json.refresh.lock")
        }
      )
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const during = yield* store.locked(Effect.all([probe(outer), probe(join(dir, "auth.lock"))]))
      assert.deepStrictEqual(during, [1, 0])
    })
  )
})

describe("without a flock(2) binding", () => {
  it.scoped(
    "locked still excludes within the process, says once that codex is not kept out, and is not seen outside",
    () => {
      const warnings: Array<string> = []
      const capture = Logger.make(({ logLevel, message }) => {
        if (LogLevel.greaterThanEqual(logLevel, LogLevel.Warning)) warnings.push(String(message))
      })
      return Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const { outer } = CodexLock.lockFiles(authPath)
        const source = yield* withFallbackWarning(Effect.fail("no native module here"))
        const first = yield* FileStore.make(authPath, { flock: source }).pipe(Effect.provide(Platform))
        const second = yield* FileStore.make(authPath, { flock: source }).pipe(Effect.provide(Platform))

        yield* assertExclusion(first, second, {
          whileHeld: Effect.map(probe(outer), (status) =>
            assert.strictEqual(status, 0, "another process is not kept out")
          ),
          waiting: eventually(
            "the second store is waiting on the TestClock",
            Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > 0)
          )
        })

        assert.strictEqual(warnings.length, 1, warnings.join("\n"))
        assert.include(warnings[0], "no native module here")
        assert.include(warnings[0], "codex")
      }).pipe(Effect.provide(Logger.add(capture)))
    }
  )
})
