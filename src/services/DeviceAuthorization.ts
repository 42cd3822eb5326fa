import { Context, Data, Duration, Effect, Option, Redacted } from "effect"
import type { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import type { TokenSet } from "../domain/TokenSet.js"

/** What an approved device code yields: a code to exchange (Codex) or the tokens themselves (RFC 8628). */
export type AuthorizationGrant = Data.TaggedEnum<{
  AuthorizationCode: { readonly code: Redacted.Redacted<string>; readonly codeVerifier: Redacted.Redacted<string> }
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

/** Tokens a refresh returned; only those present replace the stored ones (codex-protocol.md §8). */
export interface RefreshedTokens {
  readonly accessToken: Option.Option<Redacted.Redacted<string>>
  readonly idToken: Option.Option<Redacted.Redacted<string>>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  /** `expires_in` of the refresh answer, when the server sent one. */
  readonly expiresIn: Option.Option<Duration.Duration>
}

/** One dialect's wire calls against one issuer and client. */
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
    /** Turns an approved grant into tokens. */
    readonly complete: (grant: AuthorizationGrant) => Effect.Effect<TokenSet, DeviceAuthError>
    /** Trades a refresh token for new tokens. */
    readonly refresh: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<RefreshedTokens, DeviceAuthError>
    /** Revokes a refresh token at the issuer. */
    readonly revoke: (refreshToken: Redacted.Redacted<string>) => Effect.Effect<void, DeviceAuthError>
  }
>() {}
