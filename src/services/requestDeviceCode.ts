import * as Effect from "effect/Effect"
import { DeviceAuthorization } from "./DeviceAuthorization.js"
import { boundedOneShot, type StageOptions, startBound } from "./schedules.js"

/**
 * Stage 1: asks the issuer for a device code and user code (codex-protocol.md §1, RFC 8628 §3.1); transient failures
 * are retried on {@link transientRetry}, all of it within {@link startBound}.
 */
export const requestDeviceCode = (options: StageOptions = {}) =>
  Effect.gen(function* () {
    const auth = yield* DeviceAuthorization
    return yield* boundedOneShot(auth.start, { ...options, issuer: auth.issuer, step: "usercode", bound: startBound })
  }).pipe(Effect.withSpan("requestDeviceCode"))
