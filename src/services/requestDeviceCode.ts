import { Duration, Effect } from "effect"
import type { DeviceAuthError } from "../domain/Errors.js"
import { DeviceAuthorization } from "./DeviceAuthorization.js"

/**
 * Retries a transient failure of a one-shot call three more times: after the server's Retry-After, or else after
 * 1 s, 2 s, 4 s.
 */
export const retryTransient = <A, R>(
  self: Effect.Effect<A, DeviceAuthError, R>,
  retriesLeft = 3,
  delay: Duration.Duration = Duration.seconds(1)
): Effect.Effect<A, DeviceAuthError, R> =>
  Effect.catchIf(
    self,
    (error) => error.reason === "Unavailable" && retriesLeft > 0,
    (error) =>
      Effect.zipRight(
        Effect.sleep(error.retryAfter ?? delay),
        retryTransient(self, retriesLeft - 1, Duration.times(delay, 2))
      )
  )

/** Stage 1: asks the issuer for a device code and user code (codex-protocol.md §1, RFC 8628 §3.1). */
export const requestDeviceCode = Effect.gen(function* () {
  const auth = yield* DeviceAuthorization
  return yield* retryTransient(auth.start)
}).pipe(Effect.withSpan("requestDeviceCode"))

/** The longest a login waits for approval, as codex: 15 minutes from the first poll. */
export const maximumWait = Duration.minutes(15)
