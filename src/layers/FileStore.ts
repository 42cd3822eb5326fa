import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Clock, Duration, Effect, Either, Layer, Option, Scope } from "effect"
import { randomBytes } from "node:crypto"
import * as NodePath from "node:path"
import { StoreError } from "../domain/Errors.js"
import { encodeStoredAuth, parseStoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { lockWait, lockWaitBound } from "../services/schedules.js"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"

/** The auth.json path of a profile inside CODEX_HOME: codex's `auth.json` for the default, `auth.<name>.json` beside it. */
export const authJsonPath = (codexHome: string, profile: string = DEFAULT_PROFILE): string =>
  NodePath.join(codexHome, profile === DEFAULT_PROFILE ? "auth.json" : `auth.${profile}.json`)

const PROFILE_FILE = /^auth\.(.+)\.json$/

/** The named profiles stored as files in CODEX_HOME (not the default), sorted. */
export const listProfiles = (
  codexHome: string
): Effect.Effect<ReadonlyArray<string>, StoreError, FileSystem.FileSystem> =>
  Effect.flatMap(FileSystem.FileSystem, (fs) =>
    fs.readDirectory(codexHome).pipe(
      Effect.map((names) =>
        names
          .flatMap((name) => {
            const match = PROFILE_FILE.exec(name)
            return match && Either.isRight(validateProfileName(match[1]!)) ? [match[1]!] : []
          })
          .sort()
      ),
      Effect.catchIf(
        (error) => error._tag === "SystemError" && error.reason === "NotFound",
        () => Effect.succeed([])
      ),
      Effect.mapError((error) => new StoreError({ reason: "Io", path: codexHome, detail: error.message }))
    )
  )

/** A lock file older than this is taken over even when its process seems alive. */
const STALE_AFTER = Duration.seconds(60)

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"
const isAlreadyExists = (error: PlatformError): boolean =>
  error._tag === "SystemError" && error.reason === "AlreadyExists"

const randomSuffix = Effect.sync(() => randomBytes(6).toString("hex"))

/** What a lock file says about its holder. */
interface LockOwner {
  readonly pid: number
  readonly time: number
  readonly id: string
}

const parseLockOwner = (text: string): Option.Option<LockOwner> => {
  try {
    const json: unknown = JSON.parse(text)
    if (typeof json !== "object" || json === null) return Option.none()
    const { pid, time, id } = json as Record<string, unknown>
    return typeof pid === "number" && typeof time === "number" && typeof id === "string"
      ? Option.some({ pid, time, id })
      : Option.none()
  } catch {
    return Option.none()
  }
}

// process.kill(pid, 0) sends no signal; ESRCH means no such process, EPERM means it exists under another user.
const isAlive = (pid: number): Effect.Effect<boolean> =>
  Effect.sync(() => {
    try {
      process.kill(pid, 0)
      return true
    } catch (error) {
      return (error as NodeJS.ErrnoException).code !== "ESRCH"
    }
  })

const io = (target: string) => (error: PlatformError) =>
  new StoreError({ reason: "Io", path: target, detail: error.message })

// mkdir's mode is filtered by the umask; a directory we create is ours to make exactly 0700.
const ensureDirectoryOf = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (yield* fs.exists(dir)) return
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
    yield* fs.chmod(dir, 0o700)
  }).pipe(Effect.mapError(io(dir)))

/**
 * The cross-process lock of a store kept at `authPath` (whatever holds the secret: the file itself or the keyring):
 * an in-process semaphore and the lock file `<authPath>.devicecode.lock` (created with `wx`, holding pid, time and a
 * random id). A lock older than 60 s or whose pid is gone is stale and taken over. It is not re-entrant.
 */
export const makeFileLock = (
  authPath: string
): Effect.Effect<CredentialStore["Type"]["locked"], never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.dirname(authPath)
    const lockPath = `${authPath}.devicecode.lock`
    const semaphore = yield* Effect.makeSemaphore(1)

    const ensureDirectory = ensureDirectoryOf(fs, dir)

    const readLock = fs.readFileString(lockPath).pipe(
      Effect.map(Option.some),
      Effect.catchIf(isNotFound, () => Effect.succeedNone),
      Effect.mapError(io(lockPath))
    )

    const releaseLock = (id: string) =>
      readLock.pipe(
        Effect.flatMap((text) =>
          Option.exists(Option.flatMap(text, parseLockOwner), (owner) => owner.id === id)
            ? fs.remove(lockPath).pipe(Effect.mapError(io(lockPath)))
            : Effect.void
        ),
        Effect.ignore
      )

    // Creates the lock file, or returns false when another holder has it. Uninterruptible, so that a lock file
    // that exists always has its release registered in the scope.
    const tryAcquire = (owner: LockOwner) =>
      Effect.uninterruptible(
        Effect.gen(function* () {
          const opened = yield* Effect.scoped(
            fs.open(lockPath, { flag: "wx", mode: 0o600 }).pipe(
              Effect.flatMap((file) =>
                file
                  .writeAll(new TextEncoder().encode(JSON.stringify(owner)))
                  .pipe(Effect.onError(() => fs.remove(lockPath).pipe(Effect.ignore)))
              ),
              Effect.as(true),
              Effect.catchIf(isAlreadyExists, () => Effect.succeed(false))
            )
          )
          if (opened) yield* Effect.addFinalizer(() => releaseLock(owner.id))
          return opened
        })
      ).pipe(Effect.mapError(io(lockPath)))

    // A lock file without a readable owner may be one being written right now; only its age can make it stale.
    const removeIfStale = (now: number) =>
      Effect.gen(function* () {
        const text = yield* readLock
        if (Option.isNone(text)) return
        const owner = parseLockOwner(text.value)
        const since = Option.isSome(owner)
          ? owner.value.time
          : yield* fs.stat(lockPath).pipe(
              Effect.map((info) =>
                Option.getOrElse(
                  Option.map(info.mtime, (date) => date.getTime()),
                  () => now
                )
              ),
              Effect.orElseSucceed(() => now)
            )
        const old = now - since > Duration.toMillis(STALE_AFTER)
        const dead = Option.isSome(owner) && !(yield* isAlive(owner.value.pid))
        if (!old && !dead) return
        // Re-read just before removing so a lock that was just taken over by someone else is not removed.
        const again = yield* readLock
        if (Option.isSome(again) && again.value === text.value) {
          yield* fs.remove(lockPath).pipe(
            Effect.catchIf(isNotFound, () => Effect.void),
            Effect.mapError(io(lockPath))
          )
        }
      })

    // lockWait: try, and between tries clear a stale lock, every 25–50 ms until lockWaitBound
    const acquireFileLock = Effect.gen(function* () {
      yield* ensureDirectory
      const id = yield* randomSuffix
      const tryOnce = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const acquired = yield* tryAcquire({ pid: process.pid, time: now, id })
        if (!acquired) yield* removeIfStale(now)
        return acquired
      })
      yield* tryOnce.pipe(
        Effect.repeat({ schedule: lockWait, until: (acquired) => acquired }),
        Effect.timeout(lockWaitBound),
        Effect.catchTag("TimeoutException", () =>
          Effect.flatMap(readLock.pipe(Effect.orElseSucceed(() => Option.none<string>())), (text) =>
            Effect.fail(
              new StoreError({
                reason: "Locked",
                path: lockPath,
                detail: Option.match(Option.flatMap(text, parseLockOwner), {
                  onNone: () => `waited ${Duration.format(lockWaitBound)}`,
                  onSome: (owner) => `held by pid ${owner.pid}; waited ${Duration.format(lockWaitBound)}`
                })
              })
            )
          )
        )
      )
    })

    return (self) =>
      semaphore
        .withPermits(1)(
          Effect.acquireUseRelease(
            Scope.make(),
            (scope) => Effect.zipRight(Scope.extend(acquireFileLock, scope), self),
            (scope, exit) => Scope.close(scope, exit)
          )
        )
        .pipe(Effect.withSpan("FileLock.locked"))
  })

/**
 * A `CredentialStore` over auth.json at `authPath`, written the way codex writes it (codex-protocol.md §7).
 *
 * - `save` writes `.auth.json.tmp-<random>` (mode 0600) beside it, fsyncs, renames it over auth.json, then chmods
 *   auth.json to 0600. A missing directory is created with mode 0700; an existing directory's mode is left alone.
 * - `locked` holds an in-process semaphore and the lock file `auth.json.devicecode.lock` (created with `wx`, holding
 *   pid, time and a random id). A lock older than 60 s or whose pid is gone is stale and taken over. It is not
 *   re-entrant: calling `locked` inside `locked` on the same store waits forever for itself.
 */
export const make = (
  authPath: string
): Effect.Effect<CredentialStore["Type"], never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.dirname(authPath)
    const locked = yield* makeFileLock(authPath)

    const ensureDirectory = ensureDirectoryOf(fs, dir)

    const load: CredentialStore["Type"]["load"] = Effect.gen(function* () {
      const text = yield* fs.readFileString(authPath).pipe(
        Effect.map(Option.some),
        Effect.catchIf(isNotFound, () => Effect.succeedNone),
        Effect.mapError(io(authPath))
      )
      if (Option.isNone(text)) return Option.none()
      const parsed = parseStoredAuth(text.value)
      if (Either.isLeft(parsed)) {
        return yield* new StoreError({ reason: "Corrupt", path: authPath, detail: parsed.left })
      }
      return Option.some(parsed.right)
    }).pipe(Effect.withSpan("FileStore.load"))

    const writeTemp = (tempPath: string, bytes: Uint8Array) =>
      Effect.scoped(
        Effect.gen(function* () {
          const file = yield* fs.open(tempPath, { flag: "wx", mode: 0o600 })
          yield* file.writeAll(bytes)
          yield* file.sync
        })
      )

    const save: CredentialStore["Type"]["save"] = (auth) =>
      Effect.gen(function* () {
        yield* ensureDirectory
        const tempPath = path.join(dir, `.${path.basename(authPath)}.tmp-${yield* randomSuffix}`)
        yield* Effect.gen(function* () {
          yield* writeTemp(tempPath, new TextEncoder().encode(encodeStoredAuth(auth)))
          yield* fs.rename(tempPath, authPath)
        }).pipe(
          Effect.mapError(io(authPath)),
          Effect.onError(() => fs.remove(tempPath).pipe(Effect.ignore))
        )
        yield* fs.chmod(authPath, 0o600).pipe(Effect.mapError(io(authPath)))
      }).pipe(Effect.withSpan("FileStore.save"))

    const remove: CredentialStore["Type"]["remove"] = fs.remove(authPath).pipe(
      Effect.as(true),
      Effect.catchIf(isNotFound, () => Effect.succeed(false)),
      Effect.mapError(io(authPath)),
      Effect.withSpan("FileStore.remove")
    )

    return { location: `file ${authPath}`, load, save, remove, locked }
  })

/** A `CredentialStore` layer over auth.json at `authPath`. */
export const layer = (authPath: string): Layer.Layer<CredentialStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(authPath))
