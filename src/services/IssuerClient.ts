import * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { DeviceAuthError, RefreshError } from "../domain/Errors.js"
import type { TokenRefresh } from "../domain/TokenSet.js"

/** Which kind of token a revocation names (RFC 7009 §2.1 `token_type_hint`). */
export type TokenTypeHint = "refresh_token" | "access_token"

/**
 * Why a refresh is made, as codex says in its refresh body's `refresh_reason`: the token is (about to be) expired, or a
 * server refused the token it was given. Issuers without the field ignore it.
 */
export type RefreshReason = "proactive_expiry" | "unauthorized_recovery"

/** Tokens a refresh returned; only those present replace the stored ones (codex-protocol.md §8). */
export type RefreshedTokens = TokenRefresh

/**
 * The issuer of one stored sign-in, as its client: refresh and revoke its tokens, judge a refresh failure, and decorate
 * the app's requests the way that issuer's APIs expect. Whatever differs between dialects is decided inside.
 */
export class IssuerClient extends Context.Tag("devicecode/IssuerClient")<
  IssuerClient,
  {
    readonly issuer: string
    /** Trades a refresh token for new tokens; `reason` defaults to `proactive_expiry`. */
    readonly refresh: (
      refreshToken: Redacted.Redacted<string>,
      reason?: RefreshReason
    ) => Effect.Effect<RefreshedTokens, DeviceAuthError>
    /** Revokes a token at the issuer (RFC 7009): a refresh token unless `hint` says it is an access token. */
    readonly revoke: (token: Redacted.Redacted<string>, hint?: TokenTypeHint) => Effect.Effect<void, DeviceAuthError>
    /** When a refreshed access token issued at `now` expires, to keep in the record (see `LoginFlow.storedExpiry`). */
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
    /**
     * The headers an app's request carries besides the bearer token, for a sign-in with this account id (Codex: the
     * `ChatGPT-Account-Id` of a workspace sign-in).
     */
    readonly requestHeaders: (accountId: Option.Option<string>) => Readonly<Record<string, string>>
  }
>() {}
