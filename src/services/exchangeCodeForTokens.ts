import * as Effect from "effect/Effect"
import { type AuthorizationGrant, type CompletedLogin, LoginFlow } from "./LoginFlow.js"
import { boundedOneShot, exchangeBound, type StageOptions } from "./schedules.js"
import type { DeviceAuthError } from "../domain/Errors.js"

/**
 * Stage 3: turns the approved grant into tokens and reads the id_token's claims (codex-protocol.md §4–5) through the
 * flow's `complete`: an authorization code is exchanged only once its PKCE pair checks out, and a mismatch sends
 * nothing. Transient failures are retried within {@link exchangeBound}.
 */
export const exchangeCodeForTokens: (
  grant: AuthorizationGrant,
  options?: StageOptions
) => Effect.Effect<CompletedLogin, DeviceAuthError, LoginFlow> = Effect.fn("exchangeCodeForTokens")(function* (
  grant: AuthorizationGrant,
  options: StageOptions = {}
) {
  const flow = yield* LoginFlow
  return yield* boundedOneShot(flow.complete(grant), {
    ...options,
    issuer: flow.issuer,
    step: "exchange",
    bound: exchangeBound
  })
})
