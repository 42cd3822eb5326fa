import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { PlatformError } from "@effect/platform/Error"
import { StoreError } from "../domain/Errors.js"
import { encodeStoredAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore, type Reservation, type SaveOptions } from "../services/CredentialStore.js"
import * as CodexLock from "./CodexLock.js"
import type { FlockSource } from "./flock.js"
import * as AuthFile from "./authFile.js"
import { chmodRegular, plainIoError, readRegularFile, warnIfExposed, writeNewFile } from "./localFile.js"
import { overwriteFile, removeStaleFiles, reserveFile, writeNewFileAs } from "./reservedFile.js"

// room for a refreshed record larger than the one it replaces (longer tokens)
const RESERVE_MARGIN = 16 * 1024
// a reserved or staging file this old (ms) was left by a process that died
const STALE_AFTER = 10 * 60 * 1000

/** Options of {@link make}. */
export interface FileStoreOptions {
  /** Where the lock's `flock(2)` comes from; default fs-ext, loaded on first use (see `CodexLock`). */
  readonly flock?: FlockSource
  /** Where the warning about a CODEX_HOME others can change goes; default stderr, as `Warning: …`. */
  readonly onWarning?: (message: string) => Effect.Effect<void>
  /** Told once when a wait for one of the lock files lasts over 1 s; default: its message on stderr. */
  readonly onLockWait?: (wait: CodexLock.LockWait) => Effect.Effect<void>
}

export { authJsonPath, listProfiles, tempFilePrefix, unreadablePath } from "./authFile.js"

const io = AuthFile.storeIo

/**
 * A `CredentialStore` over auth.json at `authPath`, written and locked the way codex writes it (codex-protocol.md §7).
 *
 * - `save` writes `.auth.json.tmp-<random>` (mode 0600, set on its descriptor) beside it, fsyncs and renames it over
 *   auth.json, under `auth.json.lock`; nothing is chmodded or written through a symbolic link. A missing directory is
 *   created with mode 0700; an existing directory's mode is left alone. `remove` unlinks auth.json, and any temp
 *   file, under `auth.json.lock`. `keep` writes a record that a save could not take (an issuer's answer) as such a
 *   temp file, complete and without any lock, for the next `load` to adopt.
 * - `reserve` writes `.auth.json.reserved-<random>` as large as a record and then some, before a refresh is sent; the
 *   save renames it to its temp file. Reserved files and `keep`'s staging files older than 10 minutes are what dead
 *   processes left, and `reserve` removes them.
 * - A process killed between the temp write and the rename leaves the only copy of what it wrote (perhaps a refresh
 *   token just rotated) in its temp file. `load` recovers it under `auth.json.lock`, which every writer holds around
 *   its temp file: a temp file that parses as a record and is newer than auth.json (mtime) is renamed over it, the
 *   others are removed.
 * - An auth.json that does not parse is never overwritten or deleted: `save`, `remove` and a recovery first rename it
 *   to `auth.json.unreadable-<time>` (mode 0600); `setAside` does that alone and says where it went.
 * - `preflight` checks that the directory exists or can be made, that a file can be created in it (one is, and
 *   removed) and that the lock files can be opened; codex's two are created when missing, as codex's login creates
 *   them when it starts.
 * - `locked` holds codex's `auth.lock` (`flock(2)`, see `CodexLock`) around a re-read and a write, so devicecode and
 *   a running codex exclude each other; `exclusive` holds devicecode's own `auth.json.refresh.lock` across a refresh
 *   request, and is taken before `locked`. Neither is re-entrant: `locked` inside `locked` on one store waits for
 *   itself.
 */
export const make = (
  authPath: string,
  options: FileStoreOptions = {}
): Effect.Effect<CredentialStore["Type"], never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.dirname(authPath)
    const tempPrefix = AuthFile.tempFilePrefix(authPath)
    const lock = yield* CodexLock.make(authPath, options)

    yield* warnIfExposed(dir, options.onWarning ?? AuthFile.warnOnStderr)

    // a FIFO, device, directory or a file over 1 MiB there is unreadable, and set aside like one that does not parse
    const readAuth = AuthFile.readAuthFile(authPath)

    const removeIfExists = (file: string) =>
      fs.remove(file).pipe(
        Effect.catchIf(AuthFile.isNotFound, () => Effect.void),
        Effect.mapError(io(file))
      )

    const parses = (text: string) => Either.isRight(AuthFile.parseAuthText(text))

    // the next free `auth.json.unreadable-<time>[-n]`; only a holder of auth.json.lock makes one
    const unreadableTarget = Effect.gen(function* () {
      const base = AuthFile.unreadablePath(authPath, yield* DateTime.now)
      for (let n = 1; ; n++) {
        const candidate = n === 1 ? base : `${base}-${n}`
        if (!(yield* fs.exists(candidate).pipe(Effect.mapError(io(candidate))))) return candidate
      }
    })

    /** Inside `auth.json.lock`: an auth.json that does not parse is renamed aside, 0600; where it went. */
    const keepUnreadable: Effect.Effect<Option.Option<string>, StoreError> = Effect.gen(function* () {
      const read = yield* readAuth
      if (Option.isNone(read) || Either.isRight(read.value)) return Option.none()
      const target = yield* unreadableTarget
      yield* fs.rename(authPath, target).pipe(Effect.mapError(io(authPath)))
      // a link moved aside stays a link: its target is not ours to chmod
      yield* chmodRegular(target, 0o600).pipe(Effect.mapError(io(target)))
      yield* Effect.logDebug(`kept the unreadable ${authPath} as ${target}`)
      return Option.some(target)
    })

    // A directory that cannot be listed hides no temp file of ours worth failing a read for: the read says what is wrong.
    const tempFiles = fs.readDirectory(dir).pipe(
      Effect.map((names) => names.filter((name) => name.startsWith(tempPrefix)).map((name) => path.join(dir, name))),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )

    const inspect = (file: string): Effect.Effect<Option.Option<AuthFile.Orphan>> =>
      // ours are regular files: a link or anything else of that name is left alone, never adopted
      readRegularFile(file, { follow: false }).pipe(
        Effect.map(
          Option.map(
            (read): AuthFile.Orphan => ({
              file,
              state: parses(read.text) ? "complete" : "incomplete",
              mtime: read.mtimeMs
            })
          )
        ),
        Effect.orElseSucceed(() => Option.some<AuthFile.Orphan>({ file, state: "unreadable", mtime: 0 }))
      )

    /**
     * Inside `auth.json.lock`, where no writer is between its temp write and its rename: a temp file there was left by
     * a process that died. The newest complete one, if newer than auth.json, becomes auth.json; the rest go, except
     * one that cannot be read.
     */
    const adoptOrphans = Effect.gen(function* () {
      const orphans = Arr.getSomes(yield* Effect.forEach(yield* tempFiles, inspect))
      const current = yield* fs.stat(authPath).pipe(
        Effect.map((info) => Option.some(AuthFile.mtimeOf(info))),
        Effect.catchIf(AuthFile.isNotFound, () => Effect.succeedNone),
        Effect.mapError(io(authPath))
      )
      const newest = orphans
        .filter(
          (o) => o.state === "complete" && Option.match(current, { onNone: () => true, onSome: (t) => o.mtime > t })
        )
        .reduce<
          AuthFile.Orphan | undefined
        >((best, o) => (best === undefined || o.mtime > best.mtime ? o : best), undefined)
      if (newest !== undefined) {
        yield* keepUnreadable
        yield* fs.rename(newest.file, authPath).pipe(Effect.mapError(io(authPath)))
        yield* chmodRegular(authPath, 0o600).pipe(Effect.mapError(io(authPath)))
        yield* Effect.logDebug(`recovered ${authPath} from ${newest.file}, written by a process that did not finish`)
      }
      yield* Effect.forEach(
        orphans.filter((o) => o !== newest && o.state !== "unreadable"),
        (o) => removeIfExists(o.file),
        { discard: true }
      )
    })

    // A look without the lock first: a temp file is rare, and a live writer's is gone once its holder lets go.
    const recover = Effect.flatMap(tempFiles, (found) =>
      found.length === 0 ? Effect.void : lock.writing(adoptOrphans)
    ).pipe(Effect.withSpan("FileStore.recover"))

    const load: CredentialStore["Type"]["load"] = Effect.gen(function* () {
      yield* recover
      const read = yield* readAuth
      if (Option.isNone(read)) return Option.none()
      const parsed = read.value
      if (Either.isLeft(parsed)) {
        return yield* new StoreError({ reason: "Corrupt", path: authPath, detail: parsed.left })
      }
      return Option.some(parsed.right)
    }).pipe(Effect.withSpan("FileStore.load"))

    // 0600 set on the descriptor before the rename: nothing is chmodded by name after it
    // A reserved file is renamed to the temp name under the lock, so a killed save leaves it to be adopted as ever;
    // if it is gone, the write makes a new one.
    const writeTemp = (tempPath: string, bytes: Uint8Array, into: Reservation | undefined) =>
      (into?.file === undefined
        ? writeNewFile(tempPath, bytes, 0o600)
        : fs.rename(into.file, tempPath).pipe(
            Effect.zipRight(overwriteFile(tempPath, bytes)),
            Effect.catchAll(() =>
              Effect.zipRight(Effect.ignore(fs.remove(tempPath)), writeNewFile(tempPath, bytes, 0o600))
            )
          )
      ).pipe(Effect.mapError(io(authPath)))

    // What a process killed during a refresh (its reserved room) or a keep (its staging file) left: a live one's is
    // minutes old at most (the refresh's bounds), so one older than STALE_AFTER is nobody's.
    const removeStale = removeStaleFiles(
      dir,
      [`.${path.basename(authPath)}.reserved-`, `.${path.basename(authPath)}.kept-`],
      STALE_AFTER
    )

    // what a save needs, so that a full disk fails before a refresh request is sent and spends the refresh token
    const reserve: CredentialStore["Type"]["reserve"] = (like) =>
      Effect.acquireRelease(
        Effect.gen(function* () {
          yield* CodexLock.ensureDirectory(fs, dir)
          yield* removeStale
          const file = path.join(dir, `.${path.basename(authPath)}.reserved-${yield* AuthFile.randomSuffix}`)
          const size = new TextEncoder().encode(encodeStoredAuth(like)).length + RESERVE_MARGIN
          yield* reserveFile(file, size, 0o600).pipe(Effect.mapError(AuthFile.notReserved(dir)))
          return { file }
        }),
        ({ file }) => Effect.ignore(fs.remove(file))
      )

    // An issuer's answer that a save could not take, kept as a complete temp file written without the lock (staged under
    // another name, never seen half-written) and adopted by the next `load` like a killed writer's.
    const keep: CredentialStore["Type"]["keep"] = (auth) =>
      Effect.gen(function* () {
        yield* CodexLock.ensureDirectory(fs, dir)
        const suffix = yield* AuthFile.randomSuffix
        const kept = path.join(dir, `${tempPrefix}${suffix}`)
        const staging = path.join(dir, `.${path.basename(authPath)}.kept-${suffix}`)
        const bytes = new TextEncoder().encode(encodeStoredAuth(auth))
        yield* writeNewFileAs(staging, kept, bytes, 0o600).pipe(Effect.mapError(io(kept)))
        yield* Effect.logDebug(`kept a record that could not be saved as ${kept}`)
        return Option.some(kept)
      }).pipe(Effect.withSpan("FileStore.keep"))

    const save: CredentialStore["Type"]["save"] = Effect.fn("FileStore.save")(function* (
      auth: StoredAuth,
      options?: SaveOptions
    ) {
      yield* CodexLock.ensureDirectory(fs, dir)
      const tempPath = path.join(dir, `${tempPrefix}${yield* AuthFile.randomSuffix}`)
      const bytes = new TextEncoder().encode(encodeStoredAuth(auth))
      yield* lock.writing(
        Effect.gen(function* () {
          yield* writeTemp(tempPath, bytes, options?.into)
          yield* keepUnreadable
          yield* fs.rename(tempPath, authPath).pipe(Effect.mapError(io(authPath)))
        }).pipe(Effect.onError(() => fs.remove(tempPath).pipe(Effect.ignore)))
      )
    })

    // Under auth.json.lock even when there is nothing to unlink, as codex's logout takes it (and so creates it); but a
    // missing directory is not created just to hold a lock file.
    const remove: CredentialStore["Type"]["remove"] = Effect.gen(function* () {
      if (!(yield* fs.exists(dir).pipe(Effect.mapError(io(dir))))) return false
      return yield* lock.writing(
        Effect.gen(function* () {
          yield* Effect.forEach(yield* tempFiles, removeIfExists, { discard: true })
          if (Option.isSome(yield* keepUnreadable)) return true
          return yield* fs.remove(authPath).pipe(
            Effect.as(true),
            Effect.catchIf(AuthFile.isNotFound, () => Effect.succeed(false)),
            Effect.mapError(io(authPath))
          )
        })
      )
    }).pipe(Effect.withSpan("FileStore.remove"))

    const setAside: CredentialStore["Type"]["setAside"] = fs.exists(authPath).pipe(
      Effect.mapError(io(authPath)),
      Effect.flatMap((exists) => (exists ? lock.writing(keepUnreadable) : Effect.succeedNone)),
      Effect.withSpan("FileStore.setAside")
    )

    const notUsable = (target: string) => (error: PlatformError) =>
      new StoreError({ reason: "Io", path: target, detail: `cannot hold the sign-in: ${plainIoError(error)}` })

    const preflight: CredentialStore["Type"]["preflight"] = Effect.gen(function* () {
      yield* CodexLock.ensureDirectory(fs, dir)
      const info = yield* fs.stat(dir).pipe(Effect.mapError(notUsable(dir)))
      if (info.type !== "Directory") {
        return yield* new StoreError({ reason: "Io", path: dir, detail: "is not a directory" })
      }
      yield* lock.preflight
      // named as a save's temp file, so that one left by a kill here is cleaned up like any other; as large as a record
      // (8 KiB, written and fsynced), so that a disk too full to take one fails here, before a code is asked for
      const probe = path.join(dir, `${tempPrefix}${yield* AuthFile.randomSuffix}`)
      yield* writeNewFile(probe, new Uint8Array(8 * 1024), 0o600).pipe(
        Effect.mapError(
          (error) => new StoreError({ reason: "Io", path: dir, detail: `cannot hold the sign-in: ${error.detail}` })
        ),
        Effect.onError(() => Effect.ignore(fs.remove(probe)))
      )
      yield* removeIfExists(probe)
    }).pipe(Effect.withSpan("FileStore.preflight"))

    return {
      location: `file ${authPath}`,
      load,
      save,
      keep,
      reserve,
      remove,
      locked: lock.locked,
      exclusive: lock.exclusive,
      preflight,
      setAside
    }
  })

/** A `CredentialStore` layer over auth.json at `authPath`. */
export const layer = (
  authPath: string,
  options: FileStoreOptions = {}
): Layer.Layer<CredentialStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(authPath, options))
