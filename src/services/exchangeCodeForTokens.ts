import { Effect, Either, Option } from "effect"
import { DeviceAuthError } from "../domain/Errors.js"
import { type IdTokenClaims, parseIdTokenClaims } from "../domain/IdTokenClaims.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { type AuthorizationGrant, DeviceAuthorization } from "./DeviceAuthorization.js"
import { retryTransient } from "./requestDeviceCode.js"

/** Stage 3: turns the approved grant into tokens and reads the id_token's claims (codex-protocol.md §4–5). */
export const exchangeCodeForTokens = (
  grant: AuthorizationGrant
): Effect.Effect<{ readonly tokens: TokenSet; readonly claims: IdTokenClaims }, DeviceAuthError, DeviceAuthorization> =>
  Effect.gen(function* () {
    const auth = yield* DeviceAuthorization
    const tokens = yield* retryTransient(auth.complete(grant))
    const malformed = (detail: string) =>
      new DeviceAuthError({ reason: "Malformed", issuer: auth.issuer, step: "exchange", detail })
    const idToken = yield* Option.match(tokens.idToken, {
      onNone: () => Effect.fail(malformed("the token response has no id_token")),
      onSome: Effect.succeed
    })
    const claims = yield* Either.match(parseIdTokenClaims(idToken), {
      onLeft: (why) => Effect.fail(malformed(`the id_token is unreadable: ${why}`)),
      onRight: Effect.succeed
    })
    return { tokens, claims }
  }).pipe(Effect.withSpan("exchangeCodeForTokens"))
