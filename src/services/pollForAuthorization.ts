import { DateTime, Duration, Effect, Option } from "effect"
import { type DeviceCode, minimumInterval } from "../domain/DeviceCode.js"
import { DeviceAuthError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { type AuthorizationGrant, DeviceAuthorization } from "./DeviceAuthorization.js"
import { maximumWait } from "./requestDeviceCode.js"

/** Options of {@link pollForAuthorization}. */
export interface PollOptions {
  /** When to give up; by default the earlier of the code's expiry and 15 minutes from now. */
  readonly deadline?: DateTime.Utc
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

const slowDownStep = Duration.seconds(5)
const longestBackoff = Duration.minutes(1)

/** The earlier of the code's expiry and `maximumWait` from `now`. */
export const loginDeadline = (code: DeviceCode, now: DateTime.Utc): DateTime.Utc => {
  const longest = DateTime.addDuration(now, maximumWait)
  return Option.match(code.expiresAt, {
    onNone: () => longest,
    onSome: (expiresAt) => DateTime.min(expiresAt, longest)
  })
}

/**
 * Stage 2: polls until the code is approved. The first poll goes out at once, then one per interval; `slow_down`
 * adds 5 s for the rest of the login (RFC 8628 §3.5); transient failures back off (or wait Retry-After) inside the
 * deadline. Past the deadline the login fails `Expired` when the code's own expiry came first, else `TimedOut`.
 */
export const pollForAuthorization = (
  code: DeviceCode,
  options: PollOptions = {}
): Effect.Effect<AuthorizationGrant, DeviceAuthError, DeviceAuthorization> =>
  Effect.gen(function* () {
    const auth = yield* DeviceAuthorization
    const emit = options.onEvent ?? (() => Effect.void)
    const now = yield* DateTime.now
    const deadline = options.deadline ?? loginDeadline(code, now)
    const expiredFirst = Option.exists(code.expiresAt, (expiresAt) => DateTime.lessThanOrEqualTo(expiresAt, deadline))

    const budget = Duration.millis(Math.max(0, DateTime.distance(now, deadline)))

    const loop = Effect.gen(function* () {
      let interval = Duration.max(code.interval, minimumInterval)
      let attempt = 0
      let failures = 0
      while (true) {
        attempt++
        const result = yield* Effect.either(auth.poll(code))
        if (result._tag === "Left") {
          const error = result.left
          if (error.reason !== "Unavailable") return yield* error
          failures++
          const delay = Duration.max(
            error.retryAfter ?? Duration.min(Duration.times(interval, 2 ** (failures - 1)), longestBackoff),
            minimumInterval
          )
          yield* emit(LoginEvent.Retrying({ detail: error.message, delay }))
          yield* Effect.sleep(delay)
          continue
        }
        failures = 0
        const poll = result.right
        if (poll._tag === "Approved") return poll.grant
        if (poll._tag === "SlowDown") {
          interval = Duration.sum(interval, slowDownStep)
          yield* emit(LoginEvent.SlowedDown({ interval }))
        }
        yield* emit(LoginEvent.Waiting({ attempt, nextPollIn: interval }))
        yield* Effect.sleep(interval)
      }
    })

    return yield* loop.pipe(
      Effect.timeoutFail({
        duration: budget,
        onTimeout: () =>
          new DeviceAuthError({
            reason: expiredFirst ? "Expired" : "TimedOut",
            issuer: auth.issuer,
            step: "poll",
            detail: Duration.format(Duration.seconds(Math.round(Duration.toSeconds(budget))))
          })
      })
    )
  }).pipe(Effect.withSpan("pollForAuthorization"))
