import { FileSystem, Path } from "@effect/platform"
import { SystemError } from "@effect/platform/Error"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, TestClock, TestServices } from "effect"
import * as fsp from "node:fs/promises"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import { apiKeyAuth, encodeStoredAuth } from "../src/domain/StoredAuth.js"
import * as CodexLock from "../src/layers/CodexLock.js"
import * as FileStore from "../src/layers/FileStore.js"
import { type CredentialStore, lockDeadline } from "../src/services/CredentialStore.js"
import { refreshLockBound } from "../src/services/schedules.js"
import { chatgptAuth, credentialStoreContract } from "./CredentialStore.contract.js"
import { assertExclusion, spiedFlock } from "./support/exclusion.js"
import { fixedChatgptAuth } from "./support/records.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fsp.mkdtemp(join(tmpdir(), "devicecode-filestore-"))),
  (dir) => Effect.promise(() => fsp.rm(dir, { recursive: true, force: true }))
)

const storeAt = (authPath: string, options: FileStore.FileStoreOptions = {}) =>
  FileStore.make(authPath, options).pipe(Effect.provide(Platform))

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

/** Waits, a look every 10 ms of real time and 1,000 looks at most, until `condition` holds (on TestClock too). */
const waitUntil = (condition: Effect.Effect<boolean>) =>
  condition.pipe(
    Effect.tap((ok) => (ok ? Effect.void : TestServices.provideLive(Effect.sleep("10 millis")))),
    Effect.repeat({ until: (ok) => ok, times: 1000 }),
    Effect.flatMap((ok) => (ok ? Effect.void : Effect.dieMessage("the condition did not hold within 10 s")))
  )

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
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
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

  it.scoped("a missing file loads as none; a directory there is not a regular file, so unreadable (Corrupt)", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const store = yield* storeAt(FileStore.authJsonPath(dir))
      assert.isTrue(Option.isNone(yield* store.load))
      const asDir = join(dir, "isdir")
      yield* Effect.promise(() => fsp.mkdir(join(asDir, "auth.json"), { recursive: true }))
      const broken = yield* storeAt(FileStore.authJsonPath(asDir))
      const error = yield* broken.load.pipe(Effect.flip)
      assert.strictEqual(error.reason, "Corrupt")
      assert.include(error.message, "a directory, not a regular file")
    })
  )

  it.scoped(
    "creates auth.lock (0666 & umask, as codex), auth.json.lock and auth.json.refresh.lock (0600), empty, for good",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const authPath = FileStore.authJsonPath(dir)
        const store = yield* storeAt(authPath)
        yield* store.exclusive(store.locked(store.save(chatgptAuth("access-1"))))
        assert.isTrue(yield* store.remove)
        const lockPaths = [join(dir, "auth.lock"), join(dir, "auth.json.lock"), join(dir, "auth.json.refresh.lock")]
        assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json.lock", "auth.json.refresh.lock", "auth.lock"])
        // what 0666 becomes under this process's umask
        yield* writeText(join(dir, "umask-probe"), "", 0o666)
        assert.deepStrictEqual(yield* Effect.forEach(lockPaths, mode), [
          yield* mode(join(dir, "umask-probe")),
          0o600,
          0o600
        ])
        for (const lockPath of lockPaths) assert.strictEqual(yield* readText(lockPath), "")
      })
  )

  it.scoped("remove with no auth file and no directory creates nothing", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const store = yield* storeAt(FileStore.authJsonPath(join(dir, "missing")))
      assert.isFalse(yield* store.remove)
      assert.deepStrictEqual(yield* list(dir), [])
    })
  )

  for (const lock of ["locked", "exclusive"] as const) {
    it.scoped(
      `two store instances on one path exclude each other's ${lock} through flock(2), not only semaphores`,
      () =>
        Effect.gen(function* () {
          const authPath = FileStore.authJsonPath(yield* tempDir)
          const { counts, source: spied } = yield* spiedFlock
          const first = yield* storeAt(authPath, { flock: spied })
          const second = yield* storeAt(authPath, { flock: spied })
          yield* assertExclusion(first, second, { lock, waiting: waitUntil(Effect.sync(() => counts.busy > 0)) })
        })
    )
  }

  /** Another holder of `lock` (in this process, through flock): the wait for it gives up after `bound`, naming `file`. */
  // Stepping TestClock through a whole 60 s or 2m 5s wait takes some 1,700 tries of the lock: seconds of real time,
  // over 30 s on a loaded machine. So one wait shows the bound it keeps (the one it tells after 1 s, which is the
  // one its retries and timeout use), and a second one, bounded by `lockDeadline` at 3 s, how it gives up.
  const givesUpBehind = (lock: "locked" | "exclusive", bound: Duration.Duration, file: string) =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const holder = yield* storeAt(authPath)
      const told: Array<CodexLock.LockWait> = []
      const store = yield* storeAt(authPath, { onLockWait: (wait) => Effect.sync(() => void told.push(wait)) })
      const entered = yield* Deferred.make<void>()
      yield* Effect.fork(holder[lock](Effect.zipRight(Deferred.succeed(entered, undefined), Effect.never)))
      yield* Deferred.await(entered)

      const waiting = yield* Effect.fork(store[lock](Effect.void))
      yield* waitUntil(Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > 0))
      yield* TestClock.adjust("999 millis")
      assert.deepStrictEqual(told, [], "a wait is told after 1 s, not before")
      // a try of the lock is real I/O, which TestClock.adjust does not wait for: step on until the wait is told
      yield* waitUntil(
        Effect.zipRight(
          TestClock.adjust("10 millis"),
          Effect.sync(() => told.length > 0)
        )
      )
      assert.deepStrictEqual(
        told.map((wait) => [wait.path, Duration.toMillis(wait.bound)]),
        [[join(dir, file), Duration.toMillis(bound)]]
      )
      assert.include(told[0]!.message, `up to ${Duration.toSeconds(bound)} s`)
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)))
      yield* Fiber.interrupt(waiting)

      const deadline = (yield* TestClock.currentTimeMillis) + 3_000
      // the interrupted wait's last sleep may still be listed: wait for one more, the new wait's first
      const sleepsBefore = (yield* TestClock.sleeps()).length
      const bounded = yield* Effect.fork(
        store[lock](Effect.void).pipe(Effect.locally(lockDeadline, Option.some(deadline)))
      )
      yield* waitUntil(Effect.map(TestClock.sleeps(), (sleeps) => sleeps.length > sleepsBefore))
      yield* TestClock.adjust("2900 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(bounded)))
      yield* TestClock.adjust("100 millis")
      const error = yield* Fiber.join(bounded).pipe(Effect.flip)
      assert.strictEqual(error.reason, "Locked")
      assert.include(error.message, join(dir, file))
      assert.include(error.message, "gave up after 3s")
    })

  it.scoped(
    "waits up to 60 s behind another holder of auth.lock, says so after 1 s, and gives up with Locked naming it",
    () => givesUpBehind("locked", Duration.seconds(60), "auth.lock")
  )

  it.scoped(
    "exclusive waits up to refreshLockBound (2m 5s) behind another holder, says so, and gives up with Locked naming its file",
    () => givesUpBehind("exclusive", refreshLockBound, "auth.json.refresh.lock")
  )

  it.scoped("releases auth.lock when the locked effect is interrupted", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const store = yield* storeAt(authPath)
      const other = yield* storeAt(authPath)
      const entered = yield* Deferred.make<void>()
      const fiber = yield* Effect.fork(
        store.locked(Effect.zipRight(Deferred.succeed(entered, undefined), Effect.never))
      )
      yield* Deferred.await(entered)
      const exit = yield* Fiber.interrupt(fiber)
      assert.isTrue(Exit.isInterrupted(exit))
      // on TestClock, a lock still held would make this wait forever
      assert.strictEqual(yield* other.locked(Effect.succeed("entered")), "entered")
      assert.isTrue(yield* exists(join(dir, "auth.lock")))
    })
  )
})

/** Writes `auth` as a temp file a killed save left beside `authPath`, with its mtime `secondsAgo` in the past. */
const orphan = (authPath: string, name: string, text: string, secondsAgo: number) =>
  Effect.gen(function* () {
    const file = join(dirname(authPath), `${FileStore.tempFilePrefix(authPath)}${name}`)
    yield* writeText(file, text)
    yield* age(file, secondsAgo)
    return file
  })

const age = (file: string, secondsAgo: number) =>
  Effect.promise(() => {
    const at = new Date(Date.now() - secondsAgo * 1000)
    return fsp.utimes(file, at, at)
  })

const encoded = (accessToken: string) => encodeStoredAuth(chatgptAuth(accessToken))

const loadedAccessToken = (store: CredentialStore["Type"]) =>
  Effect.map(store.load, (auth) =>
    Option.getOrUndefined(
      Option.map(
        Option.flatMap(auth, (a) => a.tokens),
        (t) => Redacted.value(t.accessToken)
      )
    )
  )

describe("FileStore crash recovery: the temp file of a killed save", () => {
  it.scoped("a complete one newer than auth.json is adopted (0600) by the next load; nothing else is left", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, encoded("access-old"), 0o644)
      yield* age(authPath, 60)
      yield* orphan(authPath, "aaaaaa", encoded("access-new"), 10)
      const store = yield* storeAt(authPath)
      assert.strictEqual(yield* loadedAccessToken(store), "access-new")
      assert.strictEqual(yield* mode(authPath), 0o600)
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
    })
  )

  it.scoped("with no auth.json, a complete one is adopted; of several, the newest", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* orphan(authPath, "older1", encoded("access-older"), 30)
      yield* orphan(authPath, "newest", encoded("access-newest"), 5)
      yield* orphan(authPath, "older2", encoded("access-old"), 20)
      const store = yield* storeAt(authPath)
      assert.strictEqual(yield* loadedAccessToken(store), "access-newest")
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
    })
  )

  it.scoped("an incomplete one, or one older than auth.json, is removed and auth.json kept", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, encoded("access-current"))
      yield* age(authPath, 30)
      const full = encoded("access-torn")
      yield* orphan(authPath, "torn00", full.slice(0, full.length / 2), 1)
      yield* orphan(authPath, "empty0", "", 1)
      yield* orphan(authPath, "stale0", encoded("access-stale"), 60)
      const store = yield* storeAt(authPath)
      assert.strictEqual(yield* loadedAccessToken(store), "access-current")
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
    })
  )

  it.scoped("an adopted one replaces an unreadable auth.json, which is kept aside", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, `{"tokens": 5`)
      yield* age(authPath, 60)
      yield* orphan(authPath, "bbbbbb", encoded("access-new"), 1)
      const store = yield* storeAt(authPath)
      assert.strictEqual(yield* loadedAccessToken(store), "access-new")
      const kept = (yield* list(dir)).filter((name) => name.startsWith("auth.json.unreadable-"))
      assert.strictEqual(kept.length, 1)
      assert.strictEqual(yield* readText(join(dir, kept[0]!)), `{"tokens": 5`)
    })
  )

  it.scoped("a save leaves no temp file; remove (logout) removes temp files along with auth.json", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const store = yield* storeAt(authPath)
      yield* store.save(chatgptAuth("access-1"))
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
      yield* orphan(authPath, "cccccc", encoded("access-2"), 0)
      yield* orphan(authPath, "dddddd", "{", 0)
      assert.isTrue(yield* store.remove)
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json.lock"])
      yield* orphan(authPath, "eeeeee", encoded("access-3"), 0)
      assert.isFalse(yield* store.remove, "no auth.json: nothing was signed in")
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json.lock"])
    })
  )

  it.scoped("a temp file that is being written (its writer holds auth.json.lock) is left to its writer", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      const { counts, source: spied } = yield* spiedFlock
      const writer = yield* storeAt(authPath)
      const reader = yield* storeAt(authPath, { flock: spied })
      yield* writer.save(chatgptAuth("access-1"))
      const inFlight = yield* orphan(authPath, "ffffff", encoded("access-2"), 0)
      const lock = yield* CodexLock.make(authPath).pipe(Effect.provide(Platform))
      const entered = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      // the writer's rename, under auth.json.lock, once the reader is waiting for it
      const writing = yield* Effect.fork(
        lock.writing(
          Effect.zipRight(
            Deferred.succeed(entered, undefined),
            Effect.zipRight(
              Deferred.await(release),
              Effect.promise(() => fsp.rename(inFlight, authPath))
            )
          )
        )
      )
      yield* Deferred.await(entered)
      const loading = yield* Effect.fork(loadedAccessToken(reader))
      yield* waitUntil(Effect.sync(() => counts.busy > 0))
      yield* Deferred.succeed(release, undefined)
      yield* Fiber.join(writing)
      assert.strictEqual(yield* Fiber.join(loading), "access-2")
      assert.deepStrictEqual((yield* list(dir)).sort(), ["auth.json", "auth.json.lock"])
    }).pipe(TestServices.provideLive)
  )
})

describe("FileStore: an unreadable auth.json is kept aside, never deleted", () => {
  const unreadable = `{"tokens": {"access_token": "sk-secret-value"`

  const keptFiles = (dir: string) =>
    Effect.map(list(dir), (names) => names.filter((name) => name.startsWith("auth.json.unreadable-")))

  it.scoped("setAside renames it to auth.json.unreadable-<time>, 0600, intact, and says where", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, unreadable, 0o644)
      yield* Effect.promise(() => fsp.chmod(authPath, 0o644))
      const store = yield* storeAt(authPath)
      const keptAs = yield* store.setAside
      assert.deepStrictEqual(keptAs, Option.some(`${authPath}.unreadable-1970-01-01T00-00-00.000Z`))
      assert.strictEqual(yield* readText(Option.getOrThrow(keptAs)), unreadable)
      assert.strictEqual(yield* mode(Option.getOrThrow(keptAs)), 0o600)
      assert.isFalse(yield* exists(authPath))
      assert.isTrue(Option.isNone(yield* store.load))
      // a second one in the same instant gets a name of its own
      yield* writeText(authPath, "not json")
      assert.deepStrictEqual(yield* store.setAside, Option.some(`${authPath}.unreadable-1970-01-01T00-00-00.000Z-2`))
      assert.strictEqual((yield* keptFiles(dir)).length, 2)
    })
  )

  it.scoped("a save over it keeps it aside; so does remove", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      yield* writeText(authPath, unreadable)
      const store = yield* storeAt(authPath)
      yield* store.save(chatgptAuth("access-1"))
      assert.strictEqual(yield* loadedAccessToken(store), "access-1")
      yield* TestClock.adjust("1 second")
      yield* writeText(authPath, "garbage")
      assert.isTrue(yield* store.remove)
      assert.isFalse(yield* exists(authPath))
      const kept = (yield* keptFiles(dir)).sort()
      assert.strictEqual(kept.length, 2)
      assert.deepStrictEqual(yield* Effect.forEach(kept, (name) => readText(join(dir, name))), [unreadable, "garbage"])
    })
  )
})

describe("FileStore.preflight", () => {
  it.scoped(
    "creates a missing directory (0700) and leaves only codex's two empty lock files in it, as codex does",
    () =>
      Effect.gen(function* () {
        const dir = yield* tempDir
        const home = join(dir, "home")
        const store = yield* storeAt(FileStore.authJsonPath(home))
        yield* store.preflight
        assert.strictEqual(yield* mode(home), 0o700)
        assert.deepStrictEqual([...(yield* list(home))].sort(), ["auth.json.lock", "auth.lock"])
      })
  )

  it.scoped("fails with Io when the directory is under a regular file, or is one", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = join(dir, "file")
      yield* writeText(file, "")
      const under = yield* storeAt(FileStore.authJsonPath(join(file, "codex"))).pipe(
        Effect.flatMap((store) => Effect.flip(store.preflight))
      )
      assert.strictEqual(under.reason, "Io")
      assert.include(under.message, join(file, "codex"))
      const itself = yield* storeAt(join(file, "auth.json")).pipe(
        Effect.flatMap((store) => Effect.flip(store.preflight))
      )
      assert.strictEqual(itself.reason, "Io")
      assert.include(itself.message, file)
      assert.deepStrictEqual(yield* list(dir), ["file"])
    })
  )

  it.scoped("fails with Io naming a lock file that cannot be opened", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.promise(() => fsp.mkdir(join(dir, "auth.lock")))
      const store = yield* storeAt(FileStore.authJsonPath(dir))
      const error = yield* Effect.flip(store.preflight)
      assert.strictEqual(error.reason, "Io")
      assert.include(error.message, join(dir, "auth.lock"))
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

describe("FileStore: what dead processes left beside auth.json", () => {
  it.scopedLive("a reserve removes reserved rooms and keep stagings older than 10 minutes, and nothing newer", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      const store = yield* storeAt(authPath)
      const old = new Date(Date.now() - 11 * 60 * 1000)
      for (const name of [".auth.json.reserved-old", ".auth.json.kept-old", ".auth.json.reserved-new"]) {
        yield* writeText(join(dir, name), " ".repeat(100))
        if (name.endsWith("-old")) yield* Effect.promise(() => fsp.utimes(join(dir, name), old, old))
      }
      // a link of that name is not ours: left alone, and what it points to too
      yield* writeText(join(dir, "target"), "x")
      yield* Effect.promise(() => fsp.symlink(join(dir, "target"), join(dir, ".auth.json.reserved-link")))
      yield* Effect.promise(() => fsp.lutimes(join(dir, ".auth.json.reserved-link"), old, old))
      const reserved = yield* Effect.scoped(
        Effect.flatMap(store.reserve(fixedChatgptAuth), (room) => Effect.map(list(dir), (names) => ({ room, names })))
      )
      assert.isDefined(reserved.room.file)
      assert.deepStrictEqual(
        reserved.names.filter((name) => name.startsWith(".auth.json.")).sort(),
        [".auth.json.reserved-link", ".auth.json.reserved-new", reserved.room.file!.slice(dir.length + 1)].sort()
      )
      // the room goes with its scope
      assert.deepStrictEqual((yield* list(dir)).sort(), [
        ".auth.json.reserved-link",
        ".auth.json.reserved-new",
        "target"
      ])
    })
  )
})
