import { FileSystem, Path } from "@effect/platform"
import type { PlatformError } from "@effect/platform/Error"
import { Effect, Either, Layer, Option } from "effect"
import { randomBytes } from "node:crypto"
import * as NodePath from "node:path"
import { StoreError } from "../domain/Errors.js"
import { encodeStoredAuth, parseStoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"
import * as CodexLock from "./CodexLock.js"
import type { FlockSource } from "./flock.js"

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

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

const randomSuffix = Effect.sync(() => randomBytes(6).toString("hex"))

const io = (target: string) => (error: PlatformError) =>
  new StoreError({ reason: "Io", path: target, detail: error.message })

/** Options of {@link make}. */
export interface FileStoreOptions {
  /** Where the lock's `flock(2)` comes from; default fs-ext, loaded on first use (see `CodexLock`). */
  readonly flock?: FlockSource
}

/**
 * A `CredentialStore` over auth.json at `authPath`, written and locked the way codex writes it (codex-protocol.md §7).
 *
 * - `save` writes `.auth.json.tmp-<random>` (mode 0600) beside it, fsyncs, renames it over auth.json, then chmods
 *   auth.json to 0600, all under `auth.json.lock`. A missing directory is created with mode 0700; an existing
 *   directory's mode is left alone. `remove` unlinks auth.json under `auth.json.lock`.
 * - `locked` holds `auth.lock` (`flock(2)`, see `CodexLock`) for the whole read–refresh–write, so devicecode and a
 *   running codex exclude each other. It is not re-entrant: `locked` inside `locked` on one store waits for itself.
 */
export const make = (
  authPath: string,
  options: FileStoreOptions = {}
): Effect.Effect<CredentialStore["Type"], never, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const dir = path.dirname(authPath)
    const lock = yield* CodexLock.make(authPath, options)

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
        yield* CodexLock.ensureDirectory(fs, dir)
        const tempPath = path.join(dir, `.${path.basename(authPath)}.tmp-${yield* randomSuffix}`)
        const bytes = new TextEncoder().encode(encodeStoredAuth(auth))
        yield* lock.writing(
          Effect.gen(function* () {
            yield* Effect.gen(function* () {
              yield* writeTemp(tempPath, bytes)
              yield* fs.rename(tempPath, authPath)
            }).pipe(
              Effect.mapError(io(authPath)),
              Effect.onError(() => fs.remove(tempPath).pipe(Effect.ignore))
            )
            yield* fs.chmod(authPath, 0o600).pipe(Effect.mapError(io(authPath)))
          })
        )
      }).pipe(Effect.withSpan("FileStore.save"))

    // No auth file, nothing to unlink: a missing directory is not created just to hold a lock file.
    const remove: CredentialStore["Type"]["remove"] = fs.exists(authPath).pipe(
      Effect.mapError(io(authPath)),
      Effect.flatMap((exists) =>
        exists
          ? lock.writing(
              fs.remove(authPath).pipe(
                Effect.as(true),
                Effect.catchIf(isNotFound, () => Effect.succeed(false)),
                Effect.mapError(io(authPath))
              )
            )
          : Effect.succeed(false)
      ),
      Effect.withSpan("FileStore.remove")
    )

    return { location: `file ${authPath}`, load, save, remove, locked: lock.locked }
  })

/** A `CredentialStore` layer over auth.json at `authPath`. */
export const layer = (
  authPath: string,
  options: FileStoreOptions = {}
): Layer.Layer<CredentialStore, never, FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(authPath, options))
