import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { constants } from "node:fs"
import * as fsp from "node:fs/promises"
import * as NodePath from "node:path"
import { LocalFileError, openFile, plainIoError, regularStats, tryIo, writeNewFile } from "./localFile.js"

/**
 * Room set aside for a write: a new file `file` of `size` spaces (as {@link writeNewFile} writes, mode `mode`); on a
 * full disk it fails and nothing is left.
 */
export const reserveFile = (file: string, size: number, mode: number): Effect.Effect<void, LocalFileError> =>
  writeNewFile(file, new Uint8Array(size).fill(0x20), mode).pipe(
    Effect.tapError(() => Effect.ignore(tryIo(() => fsp.rm(file, { force: true }))))
  )

/**
 * Writes `bytes` as {@link writeNewFile} does to `staging`, then renames that to `file`, so that `file` is never seen
 * half-written; nothing is left at `staging`.
 */
export const writeNewFileAs = (
  staging: string,
  file: string,
  bytes: Uint8Array,
  mode: number
): Effect.Effect<void, LocalFileError> =>
  writeNewFile(staging, bytes, mode).pipe(
    Effect.zipRight(tryIo(() => fsp.rename(staging, file))),
    Effect.onError(() => Effect.ignore(tryIo(() => fsp.rm(staging, { force: true }))))
  )

/**
 * Writes `bytes` over the start of the existing regular file `file` (never through a link) and cuts it to their
 * length, then syncs it: in a file already that large this needs no new space.
 */
export const overwriteFile = (file: string, bytes: Uint8Array): Effect.Effect<void, LocalFileError> =>
  Effect.scoped(
    Effect.flatMap(
      openFile(file, constants.O_WRONLY | constants.O_NOFOLLOW),
      Option.match({
        onNone: () => Effect.fail(new LocalFileError({ reason: "Io", detail: plainIoError({ code: "ENOENT" }) })),
        onSome: (handle) =>
          Effect.zipRight(
            regularStats(handle),
            tryIo(async () => {
              await handle.write(bytes, 0, bytes.length, 0)
              await handle.truncate(bytes.length)
              await handle.sync()
            })
          )
      })
    )
  )

/**
 * Removes the regular files in `dir` whose names start with one of `prefixes` and that were last written more than
 * `olderThanMillis` ago (by the Clock): what processes that died left behind. Links and anything unreadable are left.
 */
export const removeStaleFiles = (
  dir: string,
  prefixes: ReadonlyArray<string>,
  olderThanMillis: number
): Effect.Effect<void> =>
  Effect.gen(function* () {
    const names = yield* tryIo(() => fsp.readdir(dir)).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
    const now = yield* Clock.currentTimeMillis
    for (const name of names.filter((name) => prefixes.some((prefix) => name.startsWith(prefix)))) {
      const file = NodePath.join(dir, name)
      const info = yield* Effect.option(tryIo(() => fsp.lstat(file)))
      if (Option.isSome(info) && info.value.isFile() && now - info.value.mtimeMs > olderThanMillis) {
        yield* Effect.ignore(tryIo(() => fsp.rm(file, { force: true })))
      }
    }
  })
