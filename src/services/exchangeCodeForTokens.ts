import { Effect, Either, Option } from "effect"
import { DeviceAuthError } from "../domain/Errors.js"
import { emptyClaims, type IdTokenClaims, parseIdTokenClaims } from "../domain/IdTokenClaims.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { type AuthorizationGrant, DeviceAuthorization } from "./DeviceAuthorization.js"
import { retryTransient } from "./requestDeviceCode.js"

/**
 * Stage 3: turns the approved grant into tokens and reads the id_token's claims (codex-protocol.md §4–5). The Codex
 * dialect requires a readable id_token; RFC 8628 providers may send none, and then the claims are empty.
 */
export const exchangeCodeForTokens = (
  grant: AuthorizationGrant
): Effect.Effect<{ readonly tokens: TokenSet; readonly claims: IdTokenClaims }, DeviceAuthError, DeviceAuthorization> =>
  Effect.gen(function* () {
    const auth = yield* DeviceAuthorization
    const tokens = yield* retryTransient(auth.complete(grant))
    const malformed = (detail: string) =>
      new DeviceAuthError({ reason: "Malformed", issuer: auth.issuer, step: "exchange", detail })
    // codex cannot use a sign-in without a readable id_token; an RFC 8628 provider need not send one (no `openid`).
    const claims = yield* Option.match(tokens.idToken, {
      onNone: () =>
        auth.dialect === "codex"
          ? Effect.fail(malformed("the token response has no id_token"))
          : Effect.succeed(emptyClaims),
      onSome: (idToken) =>
        Either.match(parseIdTokenClaims(idToken), {
          onLeft: (why) =>
            auth.dialect === "codex"
              ? Effect.fail(malformed(`the id_token is unreadable: ${why}`))
              : Effect.succeed(emptyClaims),
          onRight: Effect.succeed
        })
    })
    return { tokens, claims }
  }).pipe(Effect.withSpan("exchangeCodeForTokens"))
