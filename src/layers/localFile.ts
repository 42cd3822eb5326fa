import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import type { Scope } from "effect/Scope"
import { constants, type Stats } from "node:fs"
import * as fsp from "node:fs/promises"

/** The largest local file devicecode reads (auth.json, config.toml): as large as a network body may be. */
export const maxLocalFileBytes = 1024 * 1024

/** Why a local file was not read: not a regular file, larger than the cap, or an I/O error (in plain words). */
export class LocalFileError extends Data.TaggedError("LocalFileError")<{
  readonly reason: "NotRegular" | "TooLarge" | "Io"
  readonly detail: string
}> {}

const errnoWords: Record<string, string> = {
  ENOSPC: "the disk is full",
  EDQUOT: "the disk quota is used up",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ELOOP: "a symbolic link where none is followed, or too many of them",
  ENOENT: "no such file or directory",
  ENOTDIR: "a part of the path is not a directory",
  EISDIR: "is a directory",
  EEXIST: "already exists",
  ENOTEMPTY: "the directory is not empty",
  EBUSY: "the file is busy",
  EIO: "an input/output error of the disk",
  EMFILE: "too many open files",
  ENFILE: "too many open files in the system",
  ENAMETOOLONG: "the name is too long",
  EXDEV: "not on the same file system",
  ENXIO: "no such device (a FIFO without a reader?)",
  EAGAIN: "the resource is temporarily unavailable",
  EFBIG: "the file is too large",
  ETXTBSY: "the file is busy",
  ESTALE: "a stale network file handle",
  EINVAL: "an invalid argument"
}

const errnoCode = (error: unknown): string | undefined => {
  const code = (error as { readonly code?: unknown } | undefined)?.code
  return typeof code === "string" ? code : undefined
}

// @effect/platform's SystemError keeps the Node error as its `cause`; its message (`Unknown: FileSystem.writeAll (21)`)
// names internals a person cannot act on.
const causeCode = (error: unknown): string | undefined => {
  const direct = errnoCode(error)
  if (direct !== undefined) return direct
  const cause = (error as { readonly cause?: unknown } | undefined)?.cause
  const nested = errnoCode(cause)
  if (nested !== undefined) return nested
  const description = (error as { readonly description?: unknown } | undefined)?.description
  const match = typeof description === "string" ? /\b(E[A-Z]{2,})\b/.exec(description) : null
  return match?.[1]
}

const reasonWords: Record<string, string> = {
  NotFound: "no such file or directory",
  PermissionDenied: "permission denied",
  AlreadyExists: "already exists",
  BadResource: "not a usable file",
  Busy: "the file is busy",
  TimedOut: "timed out",
  UnexpectedEof: "the file ended too early",
  WriteZero: "nothing could be written",
  WouldBlock: "the file would block"
}

/**
 * A file-system failure in plain words: `the disk is full (ENOSPC)`, `permission denied (EACCES)`; for a Node error,
 * a PlatformError (`SystemError`, `BadArgument`) or anything else thrown.
 */
export const plainIoError = (error: unknown): string => {
  const code = causeCode(error)
  if (code !== undefined) return `${errnoWords[code] ?? "the operation failed"} (${code})`
  const reason = (error as { readonly reason?: unknown } | undefined)?.reason
  if (typeof reason === "string" && reasonWords[reason] !== undefined) return reasonWords[reason]
  const description = (error as { readonly description?: unknown } | undefined)?.description
  if (typeof description === "string" && description !== "") return description
  return error instanceof Error && error.message !== "" ? error.message.split("\n")[0]! : "the operation failed"
}

/** The errno code of a failure (`ENOENT`), from a Node error or the Node error inside a PlatformError. */
export const ioCode = causeCode

const kindOf = (stats: Stats): string =>
  stats.isDirectory()
    ? "a directory"
    : stats.isFIFO()
      ? "a FIFO"
      : stats.isCharacterDevice() || stats.isBlockDevice()
        ? "a device"
        : stats.isSocket()
          ? "a socket"
          : "an unusual file"

/** What was read from a local file: its text and when it was last changed (ms since the epoch). */
export interface LocalFile {
  readonly text: string
  readonly mtimeMs: number
}

/** A file operation whose failure is a LocalFileError with reason `Io`, in plain words. */
export const tryIo = <A>(f: () => Promise<A>): Effect.Effect<A, LocalFileError> =>
  Effect.tryPromise({ try: f, catch: (error) => new LocalFileError({ reason: "Io", detail: plainIoError(error) }) })

const closing = (handle: fsp.FileHandle) => Effect.ignore(Effect.tryPromise(() => handle.close()))

/**
 * Opens `file` with `flags` (plus `O_NONBLOCK`, so that a FIFO cannot hang the open) for the scope: `None` when it
 * does not exist. `mode` is for a file the flags create.
 */
export const openFile = (
  file: string,
  flags: number,
  mode?: number
): Effect.Effect<Option.Option<fsp.FileHandle>, LocalFileError, Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({
      try: () => fsp.open(file, flags | constants.O_NONBLOCK, mode),
      catch: (error) => error
    }).pipe(
      Effect.map(Option.some),
      Effect.catchAll((error) =>
        errnoCode(error) === "ENOENT"
          ? Effect.succeedNone
          : Effect.fail(
              new LocalFileError({
                reason: errnoCode(error) === "ELOOP" && (flags & constants.O_NOFOLLOW) !== 0 ? "NotRegular" : "Io",
                detail:
                  errnoCode(error) === "ELOOP" && (flags & constants.O_NOFOLLOW) !== 0
                    ? "a symbolic link, which is not followed here"
                    : plainIoError(error)
              })
            )
      )
    ),
    Option.match({ onNone: () => Effect.void, onSome: closing })
  )

/** Fails with reason `NotRegular` unless the open file is a regular file; its stats otherwise. */
export const regularStats = (handle: fsp.FileHandle): Effect.Effect<Stats, LocalFileError> =>
  Effect.flatMap(
    tryIo(() => handle.stat()),
    (stats) =>
      stats.isFile()
        ? Effect.succeed(stats)
        : Effect.fail(new LocalFileError({ reason: "NotRegular", detail: kindOf(stats) }))
  )

const readAll = async (handle: fsp.FileHandle, maxBytes: number): Promise<number | Buffer> => {
  const buffer = Buffer.alloc(maxBytes + 1)
  let total = 0
  while (total < buffer.length) {
    const { bytesRead } = await handle.read(buffer, total, buffer.length - total, null)
    if (bytesRead === 0) return buffer.subarray(0, total)
    total += bytesRead
  }
  return total
}

const tooLarge = (maxBytes: number) =>
  new LocalFileError({
    reason: "TooLarge",
    detail: `larger than ${maxBytes % 1048576 === 0 ? `${maxBytes / 1048576} MiB` : `${maxBytes} bytes`}`
  })

/**
 * Reads `file` only if it is a regular file (no FIFO, device or directory) of at most `maxBytes`: `None` when it does
 * not exist. Opened with `O_NONBLOCK` and checked on the descriptor, so nothing can hang or grow the read; with
 * `follow: false` a symbolic link is refused (reason `NotRegular`). Decoded as UTF-8, as `readFileString` does.
 */
export const readRegularFile = (
  file: string,
  options: { readonly maxBytes?: number; readonly follow?: boolean } = {}
): Effect.Effect<Option.Option<LocalFile>, LocalFileError> => {
  const maxBytes = options.maxBytes ?? maxLocalFileBytes
  const flags = constants.O_RDONLY | (options.follow === false ? constants.O_NOFOLLOW : 0)
  return Effect.scoped(
    Effect.flatMap(
      openFile(file, flags),
      Option.match({
        onNone: () => Effect.succeedNone,
        onSome: (handle) =>
          Effect.gen(function* () {
            const stats = yield* regularStats(handle)
            if (stats.size > maxBytes) return yield* tooLarge(maxBytes)
            const read = yield* tryIo(() => readAll(handle, maxBytes))
            if (typeof read === "number") return yield* tooLarge(maxBytes)
            return Option.some({ text: new TextDecoder().decode(read), mtimeMs: stats.mtimeMs })
          })
      })
    )
  )
}

/**
 * Sets the mode of `file` itself, never of what a symbolic link there points to: through a descriptor opened with
 * `O_NOFOLLOW`, and only on a regular file (a link, FIFO or device is left as it is). Missing: nothing to do.
 */
export const chmodRegular = (file: string, mode: number): Effect.Effect<void, LocalFileError> =>
  Effect.scoped(
    Effect.flatMap(
      openFile(file, constants.O_RDONLY | constants.O_NOFOLLOW),
      Option.match({
        onNone: () => Effect.void,
        onSome: (handle) =>
          Effect.flatMap(
            tryIo(() => handle.stat()),
            (stats) => (stats.isFile() ? tryIo(() => handle.chmod(mode)) : Effect.void)
          )
      })
    )
  ).pipe(
    Effect.catchIf(
      (error) => error.reason === "NotRegular",
      () => Effect.void
    )
  )

/**
 * Writes `bytes` to a new file at `file` (`O_EXCL`, so never through a link), mode exactly `mode` (set on the
 * descriptor, whatever the umask), and syncs it.
 */
export const writeNewFile = (file: string, bytes: Uint8Array, mode: number): Effect.Effect<void, LocalFileError> =>
  Effect.scoped(
    Effect.flatMap(
      openFile(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode),
      Option.match({
        onNone: () => Effect.fail(new LocalFileError({ reason: "Io", detail: plainIoError({ code: "ENOENT" }) })),
        onSome: (handle) =>
          tryIo(async () => {
            await handle.chmod(mode)
            await handle.writeFile(bytes)
            await handle.sync()
          })
      })
    )
  )

// process-wide, so that the library and the CLI bundle loaded side by side still warn once
const warnedDirectories = globalValue(Symbol.for("devicecode/localFile/warnedDirectories"), () => new Set<string>())

/**
 * Gives `warn` one message per process and directory when `dir` (CODEX_HOME) can be changed by others: writable by
 * everyone without the sticky bit, or owned by another user. A missing or unreadable directory says nothing here.
 */
export const warnIfExposed = (dir: string, warn: (message: string) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.suspend(() => {
    if (warnedDirectories.has(dir)) return Effect.void
    warnedDirectories.add(dir)
    return Effect.tryPromise(() => fsp.stat(dir)).pipe(
      Effect.flatMap((stats) => {
        const uid = typeof process.getuid === "function" ? process.getuid() : undefined
        const problem =
          (stats.mode & 0o002) !== 0 && (stats.mode & 0o1000) === 0
            ? "is writable by every user"
            : uid !== undefined && stats.uid !== uid
              ? `is owned by another user (uid ${stats.uid})`
              : undefined
        return problem === undefined
          ? Effect.void
          : warn(
              `${dir} ${problem}, so another user can replace the sign-in stored there; make it yours and not ` +
                `writable by others (chmod 700)`
            )
      }),
      Effect.ignore
    )
  })
