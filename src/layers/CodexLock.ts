import * as FileSystem from "@effect/platform/FileSystem"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Ref from "effect/Ref"
import * as Path from "@effect/platform/Path"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import * as Schedule from "effect/Schedule"
import type { PlatformError } from "@effect/platform/Error"
import { globalValue } from "effect/GlobalValue"
import { constants } from "node:fs"
import * as fsp from "node:fs/promises"
import { StoreError } from "../domain/Errors.js"
import { sanitize } from "../domain/Sanitize.js"
import { type CredentialStore, lockDeadline } from "../services/CredentialStore.js"
import {
  innerLockBound,
  innerLockWait,
  interruptSaveBound,
  lockNoticeDelay,
  lockWait,
  outerLockBound,
  refreshLockBound,
  refreshLockWait
} from "../services/lockSchedules.js"
import { defaultFlock, type Flock, type FlockSource } from "./flock.js"
import { ioCode, type LocalFileError, openFile, plainIoError, regularStats } from "./localFile.js"

/** The lock files beside an auth file: codex's `auth.lock` and `auth.json.lock`, and devicecode's own refresh lock. */
export interface LockFiles {
  /** codex's outer lock, held around a re-read and a write (codex: `LOCK_EX`, blocking, no timeout). */
  readonly outer: string
  /** codex's inner lock, held only around a write (codex: `LOCK_EX | LOCK_NB` every 10 ms for 5 s, after the outer). */
  readonly inner: string
  /** devicecode's own, held across a refresh or revoke request; codex never takes it. */
  readonly refresh: string
}

/**
 * `auth.json` → `auth.lock`, `auth.json.lock` and `auth.json.refresh.lock`; `auth.<name>.json` → `auth.<name>.lock`,
 * `auth.<name>.json.lock` and `auth.<name>.json.refresh.lock`.
 */
export const lockFiles = (authPath: string): LockFiles => ({
  outer: authPath.endsWith(".json") ? `${authPath.slice(0, -".json".length)}.lock` : `${authPath}.outer.lock`,
  inner: `${authPath}.lock`,
  refresh: `${authPath}.refresh.lock`
})

/** codex's two locks for one auth file, and devicecode's own refresh lock beside them. */
export interface CodexLock {
  readonly files: LockFiles
  /** Runs `self` holding the outer lock; one holder per instance, then `flock(2)` against everyone else. */
  readonly locked: CredentialStore["Type"]["locked"]
  /** Runs `self` holding the inner lock: only a write (temp file, rename) or an unlink goes here. */
  readonly writing: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
  /** Runs `self` holding the refresh lock; one holder per instance, then `flock(2)` against everyone else. */
  readonly exclusive: CredentialStore["Type"]["exclusive"]
  /**
   * Opens codex's two lock files as taking them would, creating them when missing as codex's login does when it
   * starts, and devicecode's refresh lock when it exists: fails with reason `Io` if one cannot be.
   */
  readonly preflight: Effect.Effect<void, StoreError>
}

/** A wait for one of the lock files that has lasted `lockNoticeDelay` (1 s): which, and how long it may still last. */
export interface LockWait {
  /** The lock file waited for. */
  readonly path: string
  /** Whose lock: codex's two (`outer`, `inner`, which devicecode takes too) or devicecode's own `refresh` lock. */
  readonly lock: keyof LockFiles
  /** How long the wait may last in all before it fails with reason `Locked`. */
  readonly bound: Duration.Duration
  /** The wait in a person's words: `Waiting for …/auth.lock: another program (codex?) holds it; up to 60 s.` */
  readonly message: string
}

/** Options of {@link make}. */
export interface CodexLockOptions {
  /** Where `flock(2)` comes from; default fs-ext, loaded on first use. */
  readonly flock?: FlockSource
  /** Told once per wait for a lock that lasts over 1 s (never when it is free); default: its message on stderr. */
  readonly onLockWait?: (wait: LockWait) => Effect.Effect<void>
}

/** A {@link LockWait}'s message on stderr, sanitised: the CLI's and the stores' default. */
export const lockWaitOnStderr = (wait: LockWait): Effect.Effect<void> => Console.error(sanitize(wait.message))

const holderOf = (lock: keyof LockFiles, crossProcess: boolean): string =>
  !crossProcess
    ? "another store in this process"
    : lock === "refresh"
      ? "another devicecode process (a refresh)"
      : "another program (codex?)"

const io = (target: string) => (error: PlatformError) =>
  new StoreError({ reason: "Io", path: target, detail: plainIoError(error) })

// O_NOFOLLOW: a lock file that is a symbolic link is refused, so a dangling one creates nothing where it points and two
// of them on one file cannot make a process wait for itself.
const lockFlags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW

const lockFileError = (lockPath: string) => (error: LocalFileError) =>
  new StoreError({
    reason: "Io",
    path: lockPath,
    detail:
      error.reason === "NotRegular"
        ? `is ${error.detail.startsWith("a symbolic link") ? "a symbolic link" : error.detail}, not a regular file; ` +
          "a lock file must be one (remove it)"
        : error.detail
  })

/**
 * Opens the lock file `lockPath` for the scope, creating it (mode `mode` & umask) when missing, never through a
 * symbolic link: fails with reason `Io` naming it when it is a link or not a regular file.
 */
export const openLockFile = (lockPath: string, mode: number): Effect.Effect<number, StoreError, Scope.Scope> =>
  Effect.gen(function* () {
    const handle = yield* openFile(lockPath, lockFlags, mode)
    if (Option.isNone(handle)) {
      return yield* new StoreError({ reason: "Io", path: lockPath, detail: plainIoError({ code: "ENOENT" }) })
    }
    yield* regularStats(handle.value)
    return handle.value.fd
  }).pipe(Effect.mapError((error) => (error._tag === "StoreError" ? error : lockFileError(lockPath)(error))))

/** Creates `dir` (mode exactly 0700, whatever the umask) when it is missing; an existing directory is left alone. */
export const ensureDirectory = (fs: FileSystem.FileSystem, dir: string): Effect.Effect<void, StoreError> =>
  Effect.gen(function* () {
    if (yield* fs.exists(dir)) return
    yield* fs.makeDirectory(dir, { recursive: true, mode: 0o700 })
    yield* fs.chmod(dir, 0o700)
  }).pipe(Effect.mapError(io(dir)))

// Without flock(2) the locks fall back to this process-wide table of held lock files, so that two stores on one path
// in one process still exclude each other.
const heldInProcess = globalValue(Symbol.for("devicecode/CodexLock/heldInProcess"), () => new Set<string>())

/**
 * One try at `lockPath` open as `fd`: true when taken, its release (LOCK_UN) then registered in the scope before the
 * file's close. Uninterruptible, so that a lock taken always has its release.
 */
const tryOnce = (
  flock: Option.Option<Flock>,
  lockPath: string,
  fd: number
): Effect.Effect<boolean, StoreError, Scope.Scope> =>
  Effect.uninterruptible(
    Option.match(flock, {
      onSome: (flock) =>
        Effect.try({
          try: () => flock.tryLock(fd),
          catch: (error) =>
            new StoreError({
              reason: "Io",
              path: lockPath,
              detail: `flock: ${error instanceof Error ? error.message : String(error)}`
            })
        }).pipe(
          Effect.tap((taken) =>
            taken ? Effect.addFinalizer(() => Effect.ignore(Effect.try(() => flock.unlock(fd)))) : Effect.void
          )
        ),
      onNone: () =>
        Effect.suspend(() => {
          if (heldInProcess.has(lockPath)) return Effect.succeed(false)
          heldInProcess.add(lockPath)
          return Effect.as(
            Effect.addFinalizer(() => Effect.sync(() => heldInProcess.delete(lockPath))),
            true
          )
        })
    })
  )

/**
 * codex 0.169's locks on an auth file (codex-protocol.md §7), and one of devicecode's own: BSD `flock(2)` — not fcntl
 * locks, which do not exclude codex's — on empty files created when missing and never deleted. `locked` holds the
 * outer one (`auth.lock`, created 0666 & umask like codex's) around a re-read and a write; `writing` holds the inner
 * one (`auth.json.lock`, 0600) around a write only, since codex drops its own write after waiting 5 s for it; neither
 * is ever held across a network call, since codex waits for `auth.lock` with no timeout. `exclusive` holds
 * `auth.json.refresh.lock` (0600), which codex does not know, across a refresh or revoke request, so that devicecode's
 * processes send one at a time; it is always taken before codex's. No wait blocks a thread: each tries
 * `LOCK_EX | LOCK_NB` on a schedule (outer: `lockWait` up to 60 s; inner: `innerLockWait` up to 5 s; refresh:
 * `refreshLockWait` up to `refreshLockBound`) and then fails with reason `Locked` naming the file; one that lasts over
 * `lockNoticeDelay` is told once to `onLockWait` (default: stderr), naming the file and its holder; every wait can be
 * interrupted, and ends at its bound even inside an uninterruptible region, or by `lockDeadline` when set, or there
 * `interruptSaveBound` after an interruption it cannot act on (failing `Locked`, "interrupted while waiting"). A lock is released by closing its file,
 * also on interruption, and the kernel drops it when its holder dies. Without a `flock(2)` binding the locks work only
 * inside this process (see `flock.ts`). Not re-entrant.
 */
export const make = (
  authPath: string,
  options: CodexLockOptions = {}
): Effect.Effect<CodexLock, never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const files = lockFiles(path.resolve(authPath))
    const flockSource = options.flock ?? defaultFlock
    const onLockWait = options.onLockWait ?? lockWaitOnStderr
    const outerSemaphore = yield* Effect.makeSemaphore(1)
    const refreshSemaphore = yield* Effect.makeSemaphore(1)

    // Holds `lockPath` until the scope closes: the first try at once, then on `schedule` until `ownBound`, or until
    // `lockDeadline` when that comes first.
    const hold = (
      lock: keyof LockFiles,
      mode: number,
      schedule: Schedule.Schedule<unknown>,
      ownBound: Duration.Duration
    ): Effect.Effect<void, StoreError, Scope.Scope> =>
      Effect.gen(function* () {
        const lockPath = files[lock]
        const flock = yield* flockSource
        yield* ensureDirectory(fs, path.dirname(lockPath))
        const fd = yield* openLockFile(lockPath, mode)
        const since = yield* Clock.currentTimeMillis
        const bound = Option.match(yield* FiberRef.get(lockDeadline), {
          onNone: () => ownBound,
          onSome: (deadline) => Duration.min(ownBound, Duration.millis(Math.max(0, deadline - since)))
        })
        const busy = () =>
          new StoreError({ reason: "Locked", path: lockPath, detail: `gave up after ${Duration.format(bound)}` })
        const told = yield* Ref.make(false)
        const holder = holderOf(lock, Option.isSome(flock))
        const message = `Waiting for ${lockPath}: ${holder} holds it; up to ${Duration.toSeconds(bound)} s.`
        // told from the retry loop itself, not a timer fiber: it runs inside an uninterruptible save as well
        const tell = Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now - since < Duration.toMillis(lockNoticeDelay)
            ? Effect.void
            : Effect.flatMap(Ref.getAndSet(told, true), (done) =>
                done ? Effect.void : onLockWait({ path: lockPath, lock, bound, message })
              )
        )
        // Inside an uninterruptible region (the save of an answer in hand) an interruption cannot end the wait: from
        // when one is seen, the wait goes on for `interruptSaveBound` at most, so the command ends soon after a signal.
        let interruptedAt: number | undefined
        const goOn = (error: StoreError) =>
          error.reason !== "Locked"
            ? Effect.succeed(false)
            : Effect.map(Effect.zip(Effect.descriptor, Clock.currentTimeMillis), ([fiber, now]) => {
                if (HashSet.size(fiber.interruptors) > 0) interruptedAt ??= now
                return interruptedAt === undefined || now - interruptedAt < Duration.toMillis(interruptSaveBound)
              })
        yield* tryOnce(flock, lockPath, fd).pipe(
          Effect.filterOrFail((taken) => taken, busy),
          Effect.tapError((error) => (error.reason === "Locked" ? tell : Effect.void)),
          // the schedule ends the wait too: a timeout cannot interrupt a wait inside an uninterruptible region (the
          // save of an answered refresh), and each try is one non-blocking flock(2), so it ends within one step
          Effect.retry({ schedule: Schedule.upTo(schedule, bound), while: goOn }),
          Effect.timeoutFail({ duration: bound, onTimeout: busy }),
          Effect.mapError((error) =>
            interruptedAt === undefined || error.reason !== "Locked"
              ? error
              : new StoreError({
                  reason: "Locked",
                  path: lockPath,
                  detail: `interrupted while waiting for it; gave up ${Duration.format(interruptSaveBound)} later`
                })
          )
        )
      })

    const holding =
      (acquire: Effect.Effect<void, StoreError, Scope.Scope>) =>
      <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | StoreError, R> =>
        Effect.acquireUseRelease(
          Scope.make(),
          (scope) => Effect.zipRight(Scope.extend(acquire, scope), self),
          (scope, exit) => Scope.close(scope, exit)
        )

    const outer = holding(hold("outer", 0o666, lockWait, outerLockBound))
    const inner = holding(hold("inner", 0o600, innerLockWait, innerLockBound))
    const refresh = holding(hold("refresh", 0o600, refreshLockWait, refreshLockBound))

    // lstat: a dangling link is there too, and refused as a lock file
    const present = (lockPath: string) =>
      Effect.tryPromise({ try: () => fsp.lstat(lockPath), catch: (error) => error }).pipe(
        Effect.as(true),
        Effect.catchAll((error) =>
          ioCode(error) === "ENOENT"
            ? Effect.succeed(false)
            : Effect.fail(new StoreError({ reason: "Io", path: lockPath, detail: plainIoError(error) }))
        )
      )
    const open = (lockPath: string, mode: number) => Effect.scoped(openLockFile(lockPath, mode)).pipe(Effect.asVoid)
    // ours is created when first taken: the directory's own check (a file created there) covers it
    const openable = (lockPath: string, mode: number) => open(lockPath, mode).pipe(Effect.whenEffect(present(lockPath)))

    return {
      files,
      locked: (self) => outerSemaphore.withPermits(1)(outer(self)).pipe(Effect.withSpan("CodexLock.locked")),
      writing: (self) => inner(self).pipe(Effect.withSpan("CodexLock.writing")),
      exclusive: (self) => refreshSemaphore.withPermits(1)(refresh(self)).pipe(Effect.withSpan("CodexLock.exclusive")),
      preflight: Effect.all([open(files.outer, 0o666), open(files.inner, 0o600), openable(files.refresh, 0o600)]).pipe(
        Effect.asVoid,
        Effect.withSpan("CodexLock.preflight")
      )
    }
  })
