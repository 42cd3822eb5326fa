import * as Effect from "effect/Effect"
import { LoginFlow } from "./LoginFlow.js"
import { boundedOneShot, type StageOptions, startBound } from "./schedules.js"

/**
 * Stage 1: asks the issuer for a device code and user code (codex-protocol.md §1, RFC 8628 §3.1); transient failures
 * are retried on {@link transientRetry}, all of it within {@link startBound}.
 */
export const requestDeviceCode = Effect.fn("requestDeviceCode")(function* (options: StageOptions = {}) {
  const flow = yield* LoginFlow
  return yield* boundedOneShot(flow.start, { ...options, issuer: flow.issuer, step: "usercode", bound: startBound })
})
