import * as Effect from "effect/Effect"
import { DeviceAuthError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { type AuthorizationGrant, DeviceAuthorization } from "./DeviceAuthorization.js"
import { Pkce } from "./Pkce.js"
import { boundedOneShot, exchangeBound, type StageOptions } from "./schedules.js"

/**
 * Stage 3: turns the approved grant into tokens and reads the id_token's claims (codex-protocol.md §4–5). An
 * authorization code is exchanged only once its PKCE pair checks out through {@link Pkce} (S256(verifier) =
 * challenge); a mismatch fails `Malformed` at the poll step and nothing is sent. Transient failures of the exchange
 * are retried within {@link exchangeBound}. Whether claims are required is the dialect's call.
 */
export const exchangeCodeForTokens = (
  grant: AuthorizationGrant,
  options: StageOptions = {}
): Effect.Effect<
  { readonly tokens: TokenSet; readonly claims: IdTokenClaims },
  DeviceAuthError,
  DeviceAuthorization | Pkce
> =>
  Effect.gen(function* () {
    const auth = yield* DeviceAuthorization
    const tokens =
      grant._tag === "Tokens"
        ? grant.tokens
        : yield* Effect.gen(function* () {
            const pkce = yield* (yield* Pkce).fromIssuer(grant.codeVerifier, grant.codeChallenge).pipe(
              Effect.mapError(
                (mismatch) =>
                  new DeviceAuthError({
                    reason: "Malformed",
                    issuer: auth.issuer,
                    step: "poll",
                    detail: mismatch.message
                  })
              )
            )
            return yield* boundedOneShot(auth.exchange(grant.code, pkce), {
              ...options,
              issuer: auth.issuer,
              step: "exchange",
              bound: exchangeBound
            })
          })
    const claims = yield* auth.claimsOf(tokens)
    return { tokens, claims }
  }).pipe(Effect.withSpan("exchangeCodeForTokens"))
