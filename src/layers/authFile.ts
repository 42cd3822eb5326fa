import * as FileSystem from "@effect/platform/FileSystem"
import type { PlatformError } from "@effect/platform/Error"
import * as DateTime from "effect/DateTime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { StoreError } from "../domain/Errors.js"
import { nestedDeeperThan } from "../domain/Json.js"
import { sanitize } from "../domain/Sanitize.js"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"
import { parseStoredAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { nodeCrypto } from "../domain/nodeCrypto.js"
import * as NodePath from "node:path"
import { type LocalFileError, plainIoError, readRegularFile } from "./localFile.js"

/** A failed file operation on `target` as a StoreError with reason `Io`, in plain words. */
export const storeIo =
  (target: string) =>
  (error: PlatformError | LocalFileError): StoreError =>
    new StoreError({
      reason: "Io",
      path: target,
      detail: error._tag === "LocalFileError" ? error.detail : plainIoError(error)
    })

/** An auth file's text as a record, or what makes it unreadable; nesting is checked before a parse can overflow. */
export const parseAuthText = (text: string): Either.Either<StoredAuth, string> =>
  nestedDeeperThan(text) ? Either.left("nested too deeply") : parseStoredAuth(text)

/**
 * The auth file at `file`: `None` when missing, else its record or why it is unreadable (`Left`) — a FIFO, device,
 * directory or a file over 1 MiB is unreadable as one that does not parse. Fails only on an I/O error.
 */
export const readAuthFile = (
  file: string
): Effect.Effect<Option.Option<Either.Either<StoredAuth, string>>, StoreError> =>
  readRegularFile(file).pipe(
    Effect.map(Option.map((read) => parseAuthText(read.text))),
    Effect.catchIf(
      (error) => error.reason !== "Io",
      (error) =>
        Effect.succeed(
          Option.some(Either.left(error.reason === "TooLarge" ? error.detail : `${error.detail}, not a regular file`))
        )
    ),
    Effect.mapError(storeIo(file))
  )

/** A warning on stderr as the CLI prints them: `Warning: …`, sanitised. */
export const warnOnStderr = (message: string): Effect.Effect<void> => Console.error(sanitize(`Warning: ${message}`))

/** Whether a file operation failed because the file is not there. */
export const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

/** A random suffix for a file name beside auth.json. */
export const randomSuffix = Effect.sync(() => nodeCrypto().randomBytes(6).toString("hex"))

/** The prefix of the temp files a save of `authPath` writes beside it: `.auth.json.tmp-`. */
export const tempFilePrefix = (authPath: string): string => `.${NodePath.basename(authPath)}.tmp-`

/** Where an unreadable `authPath` is kept aside at `at` (an ISO instant, `:` made `-`): `auth.json.unreadable-<time>`. */
export const unreadablePath = (authPath: string, at: DateTime.Utc): string =>
  `${authPath}.unreadable-${DateTime.formatIso(at).replace(/:/g, "-")}`

/** What a temp file left beside auth.json holds. */
export type Orphan = {
  readonly file: string
  readonly state: "complete" | "incomplete" | "unreadable"
  readonly mtime: number
}

/** A file's modification time in milliseconds, 0 when unknown. */
export const mtimeOf = (info: FileSystem.File.Info): number =>
  Option.getOrElse(
    Option.map(info.mtime, (d) => d.getTime()),
    () => 0
  )

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
      Effect.mapError((error) => new StoreError({ reason: "Io", path: codexHome, detail: plainIoError(error) }))
    )
  )

/** A reservation for a refresh's save that failed in `dir`: the request was not sent. */
export const notReserved =
  (dir: string) =>
  (error: LocalFileError): StoreError =>
    new StoreError({
      reason: "Io",
      path: dir,
      detail:
        `${error.detail}, so the refresh was not sent and the stored sign-in still works; ` +
        "free some space and try again"
    })
