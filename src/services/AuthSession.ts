import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { DeviceAuthError, NotLoggedIn, RefreshError, StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { AuthMethod } from "../domain/StoredAuth.js"
import type { Dialect } from "../domain/Dialect.js"

/** Why a session could not hand out a token: nobody signed in, a permanent refresh failure, the store, the network. */
export type AuthSessionError = NotLoggedIn | RefreshError | StoreError | DeviceAuthError

/** Who the session's sign-in belongs to. */
export interface SessionAccount {
  readonly method: AuthMethod
  readonly email: Option.Option<string>
  readonly plan: Option.Option<string>
  readonly accountId: Option.Option<string>
  readonly issuer: string
  readonly dialect: Dialect
}

/** A token the session hands out: the access token, when it expires, and the headers its issuer's APIs expect. */
export interface SessionToken {
  /** A valid access token (for an API-key sign-in, the key). */
  readonly accessToken: Redacted.Redacted<string>
  /** When it expires: the record's stored expiry, else the JWT's `exp`; none for an API key or an opaque token. */
  readonly expiresAt: Option.Option<DateTime.Utc>
  /** What a request carries besides `Authorization` (codex: the `ChatGPT-Account-Id` of a workspace sign-in). */
  readonly headers: Readonly<Record<string, string>>
}

/**
 * What a session did with a refresh request that was out when its caller was interrupted (Ctrl-C): once sent, the
 * request may already have spent the stored refresh token, so its answer is waited for (up to `interruptGrace`, 4 s)
 * and saved before the interruption takes effect.
 */
export type RefreshInterrupted = Data.TaggedEnum<{
  /** The wait began: the answer is waited for up to `bound`. */
  Waiting: { readonly bound: Duration.Duration }
  /** The answer came and is stored. */
  Saved: {}
  /** The answer came but the store did not take it: `error` says why, and where it was kept instead (`keptIn`). */
  NotSaved: { readonly error: StoreError }
  /** The issuer answered with a failure (`error`): there was nothing to store. */
  Failed: { readonly error: DeviceAuthError }
  /** No answer came within the bound; the request was cut and nothing was stored. */
  NoAnswer: {}
}>

/** Constructors and matchers for {@link RefreshInterrupted}. */
export const RefreshInterrupted = Data.taggedEnum<RefreshInterrupted>()

/**
 * Fresh access tokens for an app: served from memory while valid, refreshed shortly before expiry, one refresh at a
 * time in the process and, through the store's lock, across processes.
 */
export class AuthSession extends Context.Tag("devicecode/AuthSession")<
  AuthSession,
  {
    /** A valid token, with its expiry and request headers. */
    readonly token: Effect.Effect<SessionToken, AuthSessionError>
    /** A valid access token (for an API-key sign-in, the key): `token`'s access token alone. */
    readonly accessToken: Effect.Effect<Redacted.Redacted<string>, AuthSessionError>
    /**
     * The server refused `rejected` (a 401): reload the store and refresh once, unless the stored token already
     * differs from it; returns the token to retry with.
     */
    readonly refreshAfterRejection: (
      rejected: Redacted.Redacted<string>
    ) => Effect.Effect<SessionToken, AuthSessionError>
    /** The id_token's claims of the current sign-in. */
    readonly claims: Effect.Effect<IdTokenClaims, AuthSessionError>
    /** Email, plan, account id, method and issuer of the current sign-in. */
    readonly account: Effect.Effect<SessionAccount, AuthSessionError>
  }
>() {}
