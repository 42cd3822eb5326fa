import { Effect, type Scope } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { eventually } from "./wait.js"

// Another program holding a lock is util-linux flock(1): the same flock(2) on the same files as codex.

/** Whether another process can take `file`'s lock right now: `flock -n FILE true` exits 0, else 1. */
export const tryLock = (file: string): number | null => spawnSync("flock", ["-n", file, "true"]).status

/**
 * Another program holding `file`'s lock until `release`, which returns once the lock is free again; killed with the
 * scope if still running. `-o` keeps the lock in flock(1) alone, not in the shell it runs.
 */
export const holdLock = (file: string): Effect.Effect<{ readonly release: Effect.Effect<void> }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn("flock", ["-o", file, "sh", "-c", "read _"], { stdio: ["pipe", "ignore", "ignore"] })),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    yield* eventually(
      `another program holds ${file}`,
      Effect.sync(() => tryLock(file) === 1)
    )
    return {
      release: Effect.zipRight(
        Effect.sync(() => child.stdin?.end()),
        eventually(
          `${file} is let go`,
          Effect.sync(() => tryLock(file) === 0)
        )
      )
    }
  })
