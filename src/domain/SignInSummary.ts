import * as Data from "effect/Data"
import type * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { CODEX_DEFAULT_ISSUER } from "./CodexConstants.js"
import { emptyClaims, type IdTokenClaims, jwtExpiry, parseIdTokenClaims } from "./IdTokenClaims.js"
import { type AuthMethod, authMethod, type SignInOrigin, type StoredAuth, type StoredTokens } from "./StoredAuth.js"
import type { Dialect } from "./Dialect.js"

/**
 * Who a stored sign-in belongs to and until when its access token holds, read from the record alone (no network, no
 * clock), without a secret in it.
 */
export class SignInSummary extends Data.Class<{
  readonly method: AuthMethod
  /** The dialect it was signed in with: its origin's, else `oidc` records are RFC 8628 and the rest codex. */
  readonly dialect: Dialect
  /** The issuer it was signed in at: its origin's, else codex's default. */
  readonly issuer: string
  /** Present only when the sign-in used a non-default issuer, client id or dialect. */
  readonly origin: Option.Option<SignInOrigin>
  /** The id_token's claims; empty without a readable one. */
  readonly claims: IdTokenClaims
  /** The stored `account_id`, else the id_token's `chatgpt_account_id`. */
  readonly accountId: Option.Option<string>
  /** The stored `expires_at`, else the access token's JWT `exp`; none for an API key or an opaque token without one. */
  readonly expiresAt: Option.Option<DateTime.Utc>
  /** An API-key sign-in's key masked as codex masks it ({@link maskApiKey}); none for token sign-ins. */
  readonly maskedApiKey: Option.Option<string>
}> {}

/** codex's masking of an API key: first 8 characters, `***`, last 5; 13 characters or fewer → `***`. */
export const maskApiKey = (key: string): string => (key.length <= 13 ? "***" : `${key.slice(0, 8)}***${key.slice(-5)}`)

/** The dialect a record was signed in with: its origin's, else `oidc` records are RFC 8628 and the rest codex. */
export const dialectOf = (record: StoredAuth): Dialect =>
  Option.match(record.origin, {
    onNone: () => (Option.getOrUndefined(authMethod(record)) === "oidc" ? "rfc8628" : "codex"),
    onSome: (origin) => origin.dialect
  })

/** The issuer a record was signed in at: its origin's, else codex's default. */
export const issuerOf = (record: StoredAuth): string =>
  Option.match(record.origin, { onNone: () => CODEX_DEFAULT_ISSUER, onSome: (origin) => origin.issuer })

/** The id_token's claims of a record; empty without a readable one. */
export const claimsOf = (record: StoredAuth): IdTokenClaims =>
  Option.match(
    Option.flatMap(record.tokens, (tokens) => tokens.idToken),
    {
      onNone: () => emptyClaims,
      onSome: (idToken) => Either.getOrElse(parseIdTokenClaims(idToken), () => emptyClaims)
    }
  )

/** The account a record's sign-in belongs to: the stored `account_id`, else the `claims` of its id_token. */
export const accountIdOf = (record: StoredAuth, claims: IdTokenClaims = claimsOf(record)): Option.Option<string> =>
  Option.orElse(
    Option.flatMap(record.tokens, (tokens) => tokens.accountId),
    () => claims.accountId
  )

/** When stored tokens' access token expires: the stored `expires_at`, else its JWT `exp`; none for an opaque one. */
export const accessTokenExpiry = (tokens: StoredTokens): Option.Option<DateTime.Utc> =>
  Option.orElse(tokens.expiresAt, () => jwtExpiry(tokens.accessToken))

/** The summary of a stored record; none when it holds no sign-in (`{}`, an API-key record without a key). */
export const summarizeSignIn = (record: StoredAuth): Option.Option<SignInSummary> =>
  Option.map(authMethod(record), (method) => {
    const claims = claimsOf(record)
    return new SignInSummary({
      method,
      dialect: dialectOf(record),
      issuer: issuerOf(record),
      origin: record.origin,
      claims,
      accountId: accountIdOf(record, claims),
      expiresAt: method === "apikey" ? Option.none() : Option.flatMap(record.tokens, accessTokenExpiry),
      maskedApiKey:
        method === "apikey" ? Option.map(record.apiKey, (key) => maskApiKey(Redacted.value(key))) : Option.none()
    })
  })
