import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { type DeviceAuthError, RevokeTimeoutError } from "../domain/Errors.js"
import type { TokenTypeHint } from "./IssuerClient.js"
import { revokeBound } from "./schedules.js"

/** The one call of an issuer client a revocation needs. */
export interface TokenRevoker {
  readonly revoke: (token: Redacted.Redacted<string>, hint?: TokenTypeHint) => Effect.Effect<void, DeviceAuthError>
}

/** The tokens of one sign-in, as issued (`TokenSet`) or as stored (`StoredTokens`). */
export interface RevocableTokens {
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
}

/** Why a revocation did not happen: the issuer refused it or could not be reached, or it took too long. */
export type RevokeError = DeviceAuthError | RevokeTimeoutError

/**
 * The token a revocation sends, as codex chooses it (codex-protocol.md §9): the refresh token, else the access token
 * hinted as one; an empty token is none.
 */
export const revocableToken = (
  tokens: RevocableTokens
): Option.Option<readonly [Redacted.Redacted<string>, TokenTypeHint]> => {
  const present = (token: Option.Option<Redacted.Redacted<string>>) =>
    Option.filter(token, (value) => Redacted.value(value) !== "")
  return Option.orElse(
    Option.map(present(tokens.refreshToken), (token) => [token, "refresh_token"] as const),
    () => Option.map(present(Option.some(tokens.accessToken)), (token) => [token, "access_token"] as const)
  )
}

/**
 * Revokes a sign-in's tokens at its issuer (RFC 7009), bounded by {@link revokeBound}: true when revoked, false when
 * there was no token to send. Logout and a login whose tokens could not be stored both revoke this way.
 */
export const revokeTokens: (client: TokenRevoker, tokens: RevocableTokens) => Effect.Effect<boolean, RevokeError> =
  Effect.fn("revokeTokens")(function* (client: TokenRevoker, tokens: RevocableTokens) {
    const chosen = revocableToken(tokens)
    if (Option.isNone(chosen)) return false
    const [token, hint] = chosen.value
    yield* client
      .revoke(token, hint)
      .pipe(
        Effect.timeoutFail({ duration: revokeBound, onTimeout: () => new RevokeTimeoutError({ bound: revokeBound }) })
      )
    return true
  })
