import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type { DeviceCode } from "../domain/DeviceCode.js"
import { DeviceAuthError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { type AuthorizationGrant, LoginFlow, type PollResult } from "./LoginFlow.js"
import {
  maximumWait,
  onRetry,
  pollSchedule,
  type PollProgress,
  retryEvent,
  transientRetry,
  unreadablePollRetry
} from "./schedules.js"

/** Options of {@link pollForAuthorization}. */
export interface PollOptions {
  /** When to give up; by default the earlier of the code's expiry and 15 minutes from now. */
  readonly deadline?: DateTime.Utc
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

/** The earlier of the code's expiry and `maximumWait` from `now`. */
export const loginDeadline = (code: DeviceCode, now: DateTime.Utc): DateTime.Utc => {
  const longest = DateTime.addDuration(now, maximumWait)
  return Option.match(code.expiresAt, {
    onNone: () => longest,
    onSome: (expiresAt) => DateTime.min(expiresAt, longest)
  })
}

/**
 * Stage 2: polls until the code is approved, on {@link pollSchedule} (at once, then every interval; `slow_down` adds
 * 5 s for the rest of the login). A poll that fails transiently is retried on {@link transientRetry} from the code's
 * interval (Retry-After honoured up to 60 s); an unreadable answer, a few times in a row, on
 * {@link unreadablePollRetry}. The whole wait is bounded by the deadline: past it the login fails
 * `Expired` when the code's own expiry came first, else `TimedOut`.
 */
export const pollForAuthorization: (
  code: DeviceCode,
  options?: PollOptions
) => Effect.Effect<AuthorizationGrant, DeviceAuthError, LoginFlow> = Effect.fn("pollForAuthorization")(function* (
  code: DeviceCode,
  options: PollOptions = {}
) {
  const flow = yield* LoginFlow
  const emit = options.onEvent ?? (() => Effect.void)
  const now = yield* DateTime.now
  const deadline = options.deadline ?? loginDeadline(code, now)
  const expiredFirst = Option.exists(code.expiresAt, (expiresAt) => DateTime.lessThanOrEqualTo(expiresAt, deadline))
  const budget = Duration.millis(Math.max(0, DateTime.distance(now, deadline)))

  const report = ({ interval, polls, result }: PollProgress): Effect.Effect<void> =>
    result._tag === "Approved"
      ? Effect.void
      : Effect.zipRight(
          result._tag === "SlowDown" ? emit(LoginEvent.SlowedDown({ interval })) : Effect.void,
          emit(LoginEvent.Waiting({ attempt: polls, nextPollIn: interval }))
        )

  const pollOnce: Effect.Effect<PollResult, DeviceAuthError> = flow
    .poll(code)
    .pipe(
      Effect.retry(unreadablePollRetry(code.interval).pipe(onRetry(retryEvent(emit)))),
      Effect.retry(transientRetry({ base: code.interval }).pipe(onRetry(retryEvent(emit))))
    )

  const { result } = yield* pollOnce.pipe(
    Effect.repeat(pollSchedule(code.interval).pipe(Schedule.tapOutput(report))),
    Effect.timeoutFail({
      duration: budget,
      onTimeout: () =>
        new DeviceAuthError({
          reason: expiredFirst ? "Expired" : "TimedOut",
          issuer: flow.issuer,
          step: "poll",
          detail: Duration.format(Duration.seconds(Math.round(Duration.toSeconds(budget))))
        })
    })
  )
  // the schedule stops only on an approval, which it hands back as its last output
  if (result._tag === "Approved") return result.grant
  return yield* Effect.dieMessage("pollSchedule stopped before an approval")
})
