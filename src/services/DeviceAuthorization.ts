import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError, RefreshError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { SignInOrigin } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import type { PkceCodes } from "./Pkce.js"

/** What an approved device code yields: a code to exchange (Codex) or the tokens themselves (RFC 8628). */
export type AuthorizationGrant = Data.TaggedEnum<{
  /** An authorization code with the PKCE pair the issuer sent with it (Codex), checked before the exchange. */
  AuthorizationCode: {
    readonly code: Redacted.Redacted<string>
    readonly codeVerifier: Redacted.Redacted<string>
    readonly codeChallenge: string
  }
  Tokens: { readonly tokens: TokenSet }
}>

/** Constructors and matchers for {@link AuthorizationGrant}. */
export const AuthorizationGrant = Data.taggedEnum<AuthorizationGrant>()

/** The answer to one poll. */
export type PollResult = Data.TaggedEnum<{
  Pending: {}
  /** Pending, and the server asked for 5 s more between polls (RFC 8628 §3.5). */
  SlowDown: {}
  Approved: { readonly grant: AuthorizationGrant }
}>

/** Constructors and matchers for {@link PollResult}. */
export const PollResult = Data.taggedEnum<PollResult>()

/** Which kind of token a revocation names (RFC 7009 §2.1 `token_type_hint`). */
export type TokenTypeHint = "refresh_token" | "access_token"

/**
 * Why a refresh is made, as codex says in its refresh body's `refresh_reason`: the token is (about to be) expired, or a
 * server refused the token it was given. Dialects without the field ignore it.
 */
export type RefreshReason = "proactive_expiry" | "unauthorized_recovery"

/** Tokens a refresh returned; only those present replace the stored ones (codex-protocol.md §8). */
export interface RefreshedTokens {
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly idToken: Option.Option<Redacted.Redacted<string>>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  /** `expires_in` of the refresh answer, when the server sent one. */
  readonly expiresIn: Option.Option<Duration.Duration>
}

/**
 * One dialect's wire calls against one issuer and client, and every decision that differs between dialects (what a
 * stored record looks like, where expiry comes from, which refresh failures are final), so the stages and the session
 * never ask which dialect they run.
 */
export class DeviceAuthorization extends Context.Tag("devicecode/DeviceAuthorization")<
  DeviceAuthorization,
  {
    readonly dialect: "codex" | "rfc8628"
    readonly issuer: string
    readonly clientId: string
    /** The scope asked for (RFC 8628 only; codex sends none). */
    readonly scope: Option.Option<string>
    /** Asks for a device code and user code. */
    readonly start: Effect.Effect<DeviceCode, DeviceAuthError>
    /** Polls once. */
    readonly poll: (code: DeviceCode) => Effect.Effect<PollResult, DeviceAuthError>
    /** Exchanges an authorization code, with its checked PKCE pair, for tokens. */
    readonly exchange: (code: Redacted.Redacted<string>, pkce: PkceCodes) => Effect.Effect<TokenSet, DeviceAuthError>
    /** Trades a refresh token for new tokens; `reason` defaults to `proactive_expiry`. */
    readonly refresh: (
      refreshToken: Redacted.Redacted<string>,
      reason?: RefreshReason
    ) => Effect.Effect<RefreshedTokens, DeviceAuthError>
    /** Revokes a token at the issuer (RFC 7009): a refresh token unless `hint` says it is an access token. */
    readonly revoke: (token: Redacted.Redacted<string>, hint?: TokenTypeHint) => Effect.Effect<void, DeviceAuthError>
    /** What a stored record remembers of this issuer; none for codex's own issuer and client (codex's exact file). */
    readonly origin: Option.Option<SignInOrigin>
    /** The `auth_mode` a sign-in of this dialect is stored with. */
    readonly authMode: "chatgpt" | "oidc"
    /** The id_token's claims of issued tokens; fails `Malformed` when this dialect cannot use tokens without them. */
    readonly claimsOf: (tokens: TokenSet) => Effect.Effect<IdTokenClaims, DeviceAuthError>
    /**
     * When an access token issued at `now` expires, to keep in the record; none when readers take it from the JWT's
     * `exp` (codex reads no other field).
     */
    readonly storedExpiry: (
      expiresIn: Option.Option<Duration.Duration>,
      now: DateTime.Utc
    ) => Option.Option<DateTime.Utc>
    /** The final reason of a refresh failure (only signing in again helps), or none when it is worth retrying. */
    readonly refreshFailure: (error: DeviceAuthError) => Option.Option<RefreshError["reason"]>
    /**
     * Whether a refresh failure says the refresh token was spent already — perhaps a moment ago by another program
     * (codex refreshes without a lock and writes afterwards), whose result is worth waiting for.
     */
    readonly refreshSpentElsewhere: (error: DeviceAuthError) => boolean
  }
>() {}
