import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import { minimumInterval } from "../domain/DeviceCode.js"
import { DeviceAuthError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import type { PollResult } from "./LoginFlow.js"

/**
 * Every wait and retry of devicecode, one named Schedule each, with its timeline. Deadlines are not schedules: each
 * stage bounds itself with `Effect.timeoutFail` (see the bounds below), because `Schedule.upTo` only stops
 * *starting* new attempts.
 */

/** RFC 8628 §3.5: a `slow_down` answer adds 5 s to the interval for the rest of the login. */
export const slowDownStep = Duration.seconds(5)

/** A Retry-After longer than this is cut to it: a server cannot park a login for hours. */
export const retryAfterCap = Duration.seconds(60)

/** The longest single backoff of a transient retry (before Retry-After, which has its own cap). */
export const transientDelayCap = Duration.seconds(30)

/** How many times a one-shot call (device-code request, exchange) is retried after a transient failure. */
export const oneShotRetries = 3

/** The longest the device-code request may take, retries included. */
export const startBound = Duration.minutes(2)

/** The longest the code exchange may take, retries included. */
export const exchangeBound = Duration.minutes(2)

/** The longest a login waits for approval, as codex: 15 minutes from the first poll. */
export const maximumWait = Duration.minutes(15)

/** Where a polling login stands after a poll: its answer, how many polls went out, and the interval now in force. */
export interface PollProgress {
  readonly result: PollResult
  readonly polls: number
  readonly interval: Duration.Duration
}

/**
 * Polling: the first poll goes out at once (it is `Effect.repeat`'s first run), then one every `interval` (never
 * under 1 s) until a poll is `Approved`. A `SlowDown` answer adds 5 s to the interval, from the very next wait on
 * and for the rest of the login (RFC 8628 §3.5) — read from the answer itself, not one step late.
 *
 * Timeline with a 5 s interval: 0 s, 5 s, 10 s, …; `slow_down` at 10 s → 20 s, 30 s, …
 */
export const pollSchedule = (interval: Duration.Duration): Schedule.Schedule<PollProgress, PollResult> =>
  Schedule.makeWithState<PollProgress | undefined, PollResult, PollProgress>(undefined, (now, result, state) => {
    const current = state?.interval ?? Duration.max(interval, minimumInterval)
    const next = result._tag === "SlowDown" ? Duration.sum(current, slowDownStep) : current
    const progress: PollProgress = { result, polls: (state?.polls ?? 0) + 1, interval: next }
    const decision =
      result._tag === "Approved"
        ? ScheduleDecision.done
        : ScheduleDecision.continueWith(ScheduleInterval.after(now + Duration.toMillis(next)))
    return Effect.succeed([progress, progress, decision] as const)
  })

/** A transient failure and the delay the schedule chose before the next try. */
export interface RetryStep {
  readonly error: DeviceAuthError
  readonly delay: Duration.Duration
}

/** Only `Unavailable` is transient: the network failed, a request timed out, or the server said 429/502/503/504. */
export const isTransient = (error: DeviceAuthError): boolean => error.reason === "Unavailable"

/**
 * Outputs, with each input, the delay the schedule chose for it (the delay actually slept, after jitter and every
 * `modifyDelay`), so a caller can say what it waits for.
 */
const withChosenDelay = <Out, R>(
  self: Schedule.Schedule<Out, DeviceAuthError, R>
): Schedule.Schedule<RetryStep, DeviceAuthError, R> =>
  Schedule.makeWithState(self.initial, (now, error, state) =>
    Effect.map(self.step(now, error, state), ([next, , decision]) => {
      const delay = ScheduleDecision.isDone(decision)
        ? Duration.zero
        : Duration.millis(Math.max(0, ScheduleIntervals.start(decision.intervals) - now))
      return [next, { error, delay }, decision] as const
    })
  )

/** What {@link transientRetry} starts from and how often it retries. */
export interface TransientRetryOptions {
  /** The first backoff, doubled each time; also the shortest wait, whatever Retry-After says. Default 1 s. */
  readonly base?: Duration.DurationInput
  /** How many retries at most; unbounded when omitted (the caller's deadline bounds it). */
  readonly retries?: number
}

/**
 * Transient retries: exponential from `base` (×2, jittered ×0.8–1.2, each delay at most 30 s), or the server's
 * `Retry-After` when it sent one, cut to 60 s and never under `base`. Only `Unavailable` errors are retried; any
 * other error (a 4xx, an invalid URL, an unreadable answer) fails at once.
 *
 * Timeline with the defaults: fail at 0 s → retry ≈1 s → ≈3 s → ≈7 s …; a 429 with `Retry-After: 3600` → +60 s.
 */
export const transientRetry = (options: TransientRetryOptions = {}): Schedule.Schedule<RetryStep, DeviceAuthError> => {
  const base = Duration.decode(options.base ?? Duration.seconds(1))
  const backoff = Schedule.exponential(base, 2).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((_, delay) => Duration.min(delay, transientDelayCap)),
    Schedule.intersect(Schedule.identity<DeviceAuthError>()),
    Schedule.modifyDelay(([, error], delay) =>
      error.retryAfter === undefined
        ? delay
        : Duration.clamp(error.retryAfter, { minimum: base, maximum: retryAfterCap })
    ),
    Schedule.whileInput(isTransient)
  )
  return withChosenDelay(
    options.retries === undefined
      ? backoff
      : Schedule.intersect(backoff, Schedule.recurs(options.retries)).pipe(Schedule.map(([step]) => step))
  )
}

/** Runs `f` with each retry the schedule decided on, never with the failure that ends it. */
export const onRetry =
  <R2>(f: (step: RetryStep) => Effect.Effect<void, never, R2>) =>
  <R>(self: Schedule.Schedule<RetryStep, DeviceAuthError, R>): Schedule.Schedule<RetryStep, DeviceAuthError, R | R2> =>
    Schedule.onDecision(self, (step, decision) => (ScheduleDecision.isContinue(decision) ? f(step) : Effect.void))

/** How many unreadable 2xx poll answers in a row are retried before the login fails `Malformed`. */
export const unreadablePollRetries = 3

/**
 * An unreadable poll answer (a maintenance page, a truncated or oversized body) while the code is still valid: the
 * next poll may well succeed, so it is retried at the poll interval, three times in a row at most; then the login
 * fails `Malformed`. Any other error passes through to {@link transientRetry} or ends the login.
 *
 * Timeline with a 5 s interval: unreadable at 0 s → 5 s → 10 s → 15 s → fails at the fourth in a row.
 */
export const unreadablePollRetry = (interval: Duration.Duration): Schedule.Schedule<RetryStep, DeviceAuthError> =>
  withChosenDelay(
    Schedule.spaced(Duration.max(interval, minimumInterval)).pipe(
      Schedule.intersect(Schedule.recurs(unreadablePollRetries)),
      Schedule.intersect(Schedule.identity<DeviceAuthError>()),
      Schedule.whileInput((error) => error.reason === "Malformed")
    )
  )

/** How a one-shot stage reports a transient failure it is about to retry. */
export interface StageOptions {
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

/** The `Retrying` event of one scheduled retry. */
export const retryEvent =
  (onEvent: StageOptions["onEvent"]) =>
  ({ delay, error }: RetryStep): Effect.Effect<void> =>
    onEvent === undefined ? Effect.void : onEvent(LoginEvent.Retrying({ detail: error.message, delay }))

/**
 * Runs a one-shot call (device-code request, exchange) with {@link transientRetry} (three retries) inside an overall
 * `bound`, retries included; past it the stage fails `Unavailable`, saying how long it tried.
 */
export const boundedOneShot = <A, R>(
  self: Effect.Effect<A, DeviceAuthError, R>,
  options: StageOptions & {
    readonly issuer: string
    readonly step: DeviceAuthError["step"]
    readonly bound: Duration.Duration
  }
): Effect.Effect<A, DeviceAuthError, R> =>
  self.pipe(
    Effect.retry(transientRetry({ retries: oneShotRetries }).pipe(onRetry(retryEvent(options.onEvent)))),
    Effect.timeoutFail({
      duration: options.bound,
      onTimeout: () =>
        new DeviceAuthError({
          reason: "Unavailable",
          issuer: options.issuer,
          step: options.step,
          detail: `no usable answer within ${Duration.format(options.bound)}, retries included`
        })
    })
  )

/** The session's longest backoff between refresh attempts while it still has a usable token. */
export const refreshBackoffCap = Duration.minutes(5)

/**
 * The session's refresh backoff after refresh failures that its issuer does not call final (codex-protocol.md §8: a
 * 500 too): 1 s, 2 s, 4 s, … doubling up to 5 min, or the server's Retry-After when that is longer (cut to 5 min).
 * While the current token is still usable the session serves it and tries again only after this delay; with an
 * expired token it retries inside the call ({@link expiredTokenRetry}).
 */
export const refreshBackoff: Schedule.Schedule<RetryStep, DeviceAuthError> = withChosenDelay(
  Schedule.exponential(Duration.seconds(1), 2).pipe(
    Schedule.modifyDelay((_, delay) => Duration.min(delay, refreshBackoffCap)),
    Schedule.intersect(Schedule.identity<DeviceAuthError>()),
    Schedule.modifyDelay(([, error], delay) =>
      error.retryAfter === undefined ? delay : Duration.max(delay, Duration.min(error.retryAfter, refreshBackoffCap))
    )
  )
)

/**
 * With an expired token, a refresh that failed (not finally) is retried inside the call three times: after 1 s, 2 s
 * and 4 s, whatever Retry-After says — a caller waiting for a token is not parked for minutes. A `Misconfigured` one
 * (an issuer whose TLS certificate is not trusted, a stored issuer URL that cannot be used) fails at once.
 */
export const expiredTokenRetry: Schedule.Schedule<RetryStep, DeviceAuthError> = withChosenDelay(
  Schedule.exponential(Duration.seconds(1), 2).pipe(
    Schedule.intersect(Schedule.recurs(3)),
    Schedule.intersect(Schedule.identity<DeviceAuthError>()),
    Schedule.whileInput((error: DeviceAuthError) => error.reason !== "Misconfigured")
  )
)

/** How long a session watches the store for another program's refresh after its refresh token was spent. */
export const adoptionWatchBound = Duration.seconds(10)

/**
 * Watching the store for another program's refresh: a look every 100 ms until one finds something (bounded by
 * {@link adoptionWatchBound} at the call site), which it hands back. codex spends a refresh token with no lock held
 * and writes its answer a moment later, under `auth.lock`.
 */
export const adoptionWatch = <A>(): Schedule.Schedule<Option.Option<A>, Option.Option<A>> =>
  Schedule.identity<Option.Option<A>>().pipe(
    Schedule.intersect(Schedule.spaced(Duration.millis(100))),
    Schedule.map(([found]) => found),
    Schedule.whileInput(Option.isNone)
  )

/** One issuer request's timeout (the issuers' default): sent at 0 s → no answer by 30 s → `Unavailable`, transient. */
export const requestTimeout = Duration.seconds(30)

/** A revocation's bound and its one request's timeout (codex's, §9): revoke at 0 s → given up at 10 s, no retry. */
export const revokeBound = Duration.seconds(10)

/** How long before its access token expires a session refreshes it (at most half its lifetime): 60 s. */
export const refreshSkew = Duration.seconds(60)

/** codex's rule for a token without an expiry: refreshed once `last_refresh` is 8 days old. */
export const refreshMaxAge = Duration.days(8)

/** How long `--open` waits for the browser launcher (xdg-open, open, start) to exit before going on without its code. */
export const browserOpenBound = Duration.seconds(10)

/** The demo's stand-in person approves the code this long after it is shown. */
export const demoApprovalDelay = Duration.seconds(3)

/** The countdown's redraws, as it turns each second of `deadline`: 14:59.250 ahead → 0.25 s, 1.25 s, 2.25 s, … */
export const countdownTick = (deadline: DateTime.Utc): Schedule.Schedule<number> =>
  Schedule.makeWithState(0, (now, _, redraws) => {
    const rest = (DateTime.toEpochMillis(deadline) - now) % 1000
    const next = ScheduleInterval.after(now + (rest > 0 ? rest : 1000))
    return Effect.succeed([redraws + 1, redraws, ScheduleDecision.continueWith(next)] as const)
  })

export * from "./lockSchedules.js"
