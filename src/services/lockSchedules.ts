// The time bounds of the stores (lock waits, a keyring call) and of a refresh that must be saved: what a store needs,
// without the login's schedules (schedules.ts re-exports these).
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"

/** The longest a session's refresh may take when its token has expired, retries included. */
export const refreshBound = Duration.seconds(60)

/**
 * After an interruption (Ctrl-C, SIGTERM) with a refresh request out, how long its answer is still waited for, and
 * (`interruptSaveBound`) by when, counted from the interruption, the locks for saving it must be had: the command ends
 * within about 5 s of the signal, keeping the answer beside the store if the locks stay taken.
 */
export const interruptGrace = Duration.seconds(4)
/** See {@link interruptGrace}. */
export const interruptSaveBound = Duration.millis(4500)

/**
 * How long a store's `locked` waits for codex's `auth.lock` before failing. codex holds it for a few milliseconds (a
 * re-read and a write); a program that holds it across a network call is what this waits out.
 */
export const outerLockBound = Duration.seconds(60)

/** How long a save or remove waits for `auth.json.lock` before failing: codex's own bound for that lock. */
export const innerLockBound = Duration.seconds(5)

/**
 * How long a store's `exclusive` waits for devicecode's own refresh lock before failing. Its holder may be in the
 * middle of a refresh: up to {@link refreshBound} for the request and its retries, and then, since an answered refresh
 * is saved rather than dropped, its write's waits for codex's two locks. A shorter wait would give up on a holder that
 * is still within its own bounds, and send a second refresh of the token it is about to save.
 */
export const refreshLockBound = Duration.sum(refreshBound, Duration.sum(outerLockBound, innerLockBound))

/** How long a lock wait lasts before it is told (`onLockWait`, once): a free lock is taken at once, silently. */
export const lockNoticeDelay = Duration.seconds(1)

/** The write-lock wait, as codex does it: try `auth.json.lock` again every 10 ms until {@link innerLockBound}. */
export const innerLockWait: Schedule.Schedule<number> = Schedule.spaced(Duration.millis(10))

/** The wait for `auth.lock`: every 25–50 ms (jittered, not in step with other waiters) until {@link outerLockBound}. */
export const lockWait: Schedule.Schedule<number> = Schedule.spaced(Duration.millis(25)).pipe(
  Schedule.jitteredWith({ min: 1, max: 2 })
)

/** The wait for devicecode's refresh lock (held over a request): every 50–100 ms until {@link refreshLockBound}. */
export const refreshLockWait: Schedule.Schedule<number> = Schedule.spaced(Duration.millis(50)).pipe(
  Schedule.jitteredWith({ min: 1, max: 2 })
)

/** One OS keyring call's timeout (a keyring locked on a prompt): call at 0 s → no answer by 3 s → `Keyring` error. */
export const keyringTimeout = Duration.seconds(3)
