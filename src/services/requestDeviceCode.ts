import { Duration, Effect, Schedule } from "effect"
import type { DeviceAuthError } from "../domain/Errors.js"
import { DeviceAuthorization } from "./DeviceAuthorization.js"

/** Retries a transient failure of a one-shot call: three more tries, 1 s then doubling, or the server's Retry-After. */
export const retryTransient = <A, R>(
  self: Effect.Effect<A, DeviceAuthError, R>
): Effect.Effect<A, DeviceAuthError, R> =>
  Effect.retry(self, {
    while: (error) => error.reason === "Unavailable",
    schedule: Schedule.exponential("1 second").pipe(Schedule.intersect(Schedule.recurs(3)))
  })

/** Stage 1: asks the issuer for a device code and user code (codex-protocol.md §1, RFC 8628 §3.1). */
export const requestDeviceCode = Effect.gen(function* () {
  const auth = yield* DeviceAuthorization
  return yield* retryTransient(auth.start)
}).pipe(Effect.withSpan("requestDeviceCode"))

/** The longest a login waits for approval, as codex: 15 minutes from the first poll. */
export const maximumWait = Duration.minutes(15)
