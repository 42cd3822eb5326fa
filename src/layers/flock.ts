import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { globalValue } from "effect/GlobalValue"
import { createRequire } from "node:module"

/** Exclusive, non-blocking BSD `flock(2)` on open files: what the store locks need from a native binding. */
export interface Flock {
  /** `flock(fd, LOCK_EX | LOCK_NB)`: true when taken, false when another open file holds it; throws on other errors. */
  readonly tryLock: (fd: number) => boolean
  /** `flock(fd, LOCK_UN)`. */
  readonly unlock: (fd: number) => void
}

/** Where the store locks get their flock: `Some`, or `None` when they fall back to an in-process lock. */
export type FlockSource = Effect.Effect<Option.Option<Flock>>

interface FsExt {
  readonly flockSync: (fd: number, flags: number) => unknown
  readonly constants: { readonly LOCK_EX: number; readonly LOCK_NB: number; readonly LOCK_UN: number }
}

const isFsExt = (module: unknown): module is FsExt =>
  typeof module === "object" &&
  module !== null &&
  typeof (module as Partial<FsExt>).flockSync === "function" &&
  typeof (module as Partial<FsExt>).constants?.LOCK_EX === "number"

// Windows builds of fs-ext report a lock conflict as EWOULDBLOCK; Linux and macOS as EAGAIN (the same errno there).
const isBusy = (error: unknown): boolean => {
  const code = (error as NodeJS.ErrnoException | undefined)?.code
  return code === "EAGAIN" || code === "EWOULDBLOCK"
}

/**
 * fs-ext's `flock(2)`, loading its native module (built by its install script) when run; fails with why it cannot.
 * A non-blocking lock is a plain syscall on the calling thread; a blocking one would park a libuv thread for good.
 */
export const loadFsExt: Effect.Effect<Flock, string> = Effect.try({
  try: (): Flock => {
    const fsExt: unknown = createRequire(import.meta.url)("fs-ext")
    if (!isFsExt(fsExt)) throw new Error("the module has no flockSync")
    const { LOCK_EX, LOCK_NB, LOCK_UN } = fsExt.constants
    return {
      tryLock: (fd) => {
        try {
          fsExt.flockSync(fd, LOCK_EX | LOCK_NB)
          return true
        } catch (error) {
          if (isBusy(error)) return false
          throw error
        }
      },
      unlock: (fd) => void fsExt.flockSync(fd, LOCK_UN)
    }
  },
  // Node's "Cannot find module" message goes on with the require stack; its first line says enough.
  catch: (error) => (error instanceof Error ? error.message : String(error)).split("\n")[0]!
})

/**
 * Runs `load` once (the result is cached) and, when it fails, logs one warning that the lock now only works inside
 * this process, so codex and other devicecode processes are not kept out.
 */
export const withFallbackWarning = (load: Effect.Effect<Flock, string>): Effect.Effect<FlockSource> =>
  Effect.cached(
    load.pipe(
      Effect.map(Option.some),
      Effect.catchAll((reason) =>
        Effect.as(
          Effect.logWarning(
            `cannot load flock(2) from fs-ext (${reason}); auth.json is locked only within this process, so codex and ` +
              `other devicecode processes are not kept out while it is written. Run "npm rebuild fs-ext" where a ` +
              `C++ compiler, make and Python are installed to fix this`
          ),
          Option.none()
        )
      )
    )
  )

/**
 * fs-ext's flock, loaded on first use, once per process (and so at most one warning per process). The cached effect
 * itself is made on first use too: a `status` that takes no lock does not pay for it at start.
 */
export const defaultFlock: FlockSource = Effect.suspend(() =>
  globalValue(Symbol.for("devicecode/flock/defaultFlock"), () => Effect.runSync(withFallbackWarning(loadFsExt)))
)
