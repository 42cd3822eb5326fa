import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { DeviceAuthError, type RefreshError } from "../domain/Errors.js"
import { decodeJwtPayload, emptyClaims, type IdTokenClaims, parseIdTokenClaims } from "../domain/IdTokenClaims.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { IssuerClient } from "../services/IssuerClient.js"
import { LoginFlow } from "../services/LoginFlow.js"
import type { Pkce, PkceCodes } from "../services/Pkce.js"

/**
 * codex's final refresh failures (codex-protocol.md §8): a 401 or 400 whose code is `refresh_token_expired`,
 * `refresh_token_reused` or `refresh_token_invalidated` (in any case), and any other 401. Everything else is transient.
 */
export const codexRefreshFailure = (error: DeviceAuthError): Option.Option<RefreshError["reason"]> => {
  if (error.reason === "Unavailable" || (error.status !== 401 && error.status !== 400)) return Option.none()
  switch (error.code?.toLowerCase()) {
    case "refresh_token_expired":
      return Option.some("Expired")
    case "refresh_token_reused":
      return Option.some("Reused")
    case "refresh_token_invalidated":
      return Option.some("Invalidated")
    default:
      return error.status === 401 ? Option.some("Other") : Option.none()
  }
}

/**
 * A final refresh failure at an RFC 8628 provider: a 400/401 `invalid_grant` (RFC 6749 §5.2, in any case), its reason
 * read from the description; otherwise codex's rules (any 401 is final).
 */
export const oidcRefreshFailure = (error: DeviceAuthError): Option.Option<RefreshError["reason"]> => {
  if (
    error.reason !== "Unavailable" &&
    error.code?.toLowerCase() === "invalid_grant" &&
    (error.status === 400 || error.status === 401)
  ) {
    const description = (error.detail ?? "").toLowerCase()
    if (/expired/.test(description)) return Option.some("Expired")
    if (/already (been )?used|reuse/.test(description)) return Option.some("Reused")
    if (/revoked|invalidated/.test(description)) return Option.some("Invalidated")
    return Option.some("Other")
  }
  return codexRefreshFailure(error)
}

/**
 * The id_token's claims, when it is readable. `required`: a dialect that cannot use a sign-in without them fails
 * `Malformed` (at the exchange); otherwise missing or unreadable claims are empty.
 */
export const readClaims = (
  issuer: string,
  tokens: TokenSet,
  required: boolean
): Effect.Effect<IdTokenClaims, DeviceAuthError> => {
  const malformed = (detail: string) =>
    required
      ? Effect.fail(new DeviceAuthError({ reason: "Malformed", issuer, step: "exchange", detail }))
      : Effect.succeed(emptyClaims)
  return Option.match(tokens.idToken, {
    onNone: () => malformed("the token response has no id_token"),
    onSome: (idToken) =>
      Either.match(parseIdTokenClaims(idToken), {
        onLeft: (why) => malformed(`the id_token is unreadable: ${why}`),
        onRight: Effect.succeed
      })
  })
}

/**
 * OpenID Connect Core §3.1.3.7: the id_token of a request that sent a `nonce` carries the same one back; anything else
 * (none, another, no id_token) may be a replayed token and is refused `Malformed`.
 */
const checkNonce = (issuer: string, tokens: TokenSet, nonce: string): Effect.Effect<void, DeviceAuthError> => {
  const sent = Option.flatMap(tokens.idToken, (idToken) =>
    Option.flatMap(Either.getRight(decodeJwtPayload(Redacted.value(idToken))), (payload) =>
      Option.fromNullable(payload.nonce)
    )
  )
  return Option.contains(sent, nonce)
    ? Effect.void
    : Effect.fail(
        new DeviceAuthError({
          reason: "Malformed",
          issuer,
          step: "exchange",
          detail: Option.isNone(tokens.idToken)
            ? "the token response has no id_token to carry the sign-in's nonce"
            : "the id_token does not carry the nonce of this sign-in (it may be replayed)"
        })
      )
}

/** Trades an authorization code, with its checked PKCE pair, for tokens at the issuer's token endpoint. */
export type CodeExchange = (
  code: Redacted.Redacted<string>,
  pkce: PkceCodes,
  redirectUri: string
) => Effect.Effect<TokenSet, DeviceAuthError>

/**
 * A flow's `complete`: tokens from the grant, or from the exchange of its code once the PKCE pair checks out through
 * `pkce` (a mismatch fails `Malformed` at the poll step and sends nothing); then the id_token's claims, `required` or
 * not as the dialect can use tokens without them.
 */
export const completeGrant =
  (options: {
    readonly issuer: string
    readonly pkce: Pick<Pkce["Type"], "fromIssuer">
    readonly exchange: CodeExchange
    readonly claimsRequired: boolean
  }): LoginFlow["Type"]["complete"] =>
  (grant) =>
    Effect.gen(function* () {
      const tokens =
        grant._tag === "Tokens"
          ? grant.tokens
          : yield* options.pkce.fromIssuer(grant.codeVerifier, grant.codeChallenge).pipe(
              Effect.mapError(
                (mismatch) =>
                  new DeviceAuthError({
                    reason: "Malformed",
                    issuer: options.issuer,
                    step: "poll",
                    detail: mismatch.message
                  })
              ),
              Effect.flatMap((pkce) => options.exchange(grant.code, pkce, grant.redirectUri))
            )
      if (grant._tag === "AuthorizationCode" && grant.nonce !== undefined) {
        yield* checkNonce(options.issuer, tokens, grant.nonce)
      }
      const claims = yield* readClaims(options.issuer, tokens, options.claimsRequired)
      return { tokens, claims }
    })

/** What a dialect decides for an issuer and client besides its wire calls: the record's shape and the client's policy. */
export type DialectRules = Pick<LoginFlow["Type"], "origin" | "authMode" | "storedExpiry"> &
  Pick<IssuerClient["Type"], "refreshFailure" | "refreshSpentElsewhere" | "requestHeaders">

/** A dialect's login flow: its rules for the record, and its wire calls. */
export const loginFlowOf = (
  rules: DialectRules,
  calls: Pick<
    LoginFlow["Type"],
    "issuer" | "authorizeUrl" | "browserRedirect" | "exchangeApiKey" | "start" | "poll" | "complete"
  >
): LoginFlow["Type"] =>
  LoginFlow.of({ origin: rules.origin, authMode: rules.authMode, storedExpiry: rules.storedExpiry, ...calls })

/** A dialect's issuer client: its refresh policy and request headers, and its wire calls. */
export const issuerClientOf = (
  rules: DialectRules,
  calls: Pick<IssuerClient["Type"], "issuer" | "refresh" | "revoke">
): IssuerClient["Type"] =>
  IssuerClient.of({
    storedExpiry: rules.storedExpiry,
    refreshFailure: rules.refreshFailure,
    refreshSpentElsewhere: rules.refreshSpentElsewhere,
    requestHeaders: rules.requestHeaders,
    ...calls
  })
