import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { SignInOrigin } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"

/** What an approved device code yields: a code to exchange (Codex) or the tokens themselves (RFC 8628). */
export type AuthorizationGrant = Data.TaggedEnum<{
  /**
   * An authorization code with its PKCE pair (Codex: the issuer sends the pair with the code) and the `redirect_uri`
   * the exchange names; the pair is checked (S256(verifier) = challenge) before anything is sent.
   */
  AuthorizationCode: {
    readonly code: Redacted.Redacted<string>
    readonly codeVerifier: Redacted.Redacted<string>
    readonly codeChallenge: string
    readonly redirectUri: string
    /** The OpenID Connect nonce the authorization request sent (browser login): the id_token must carry it back. */
    readonly nonce?: string
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

/** What a browser login's authorization request carries besides the issuer's and client's own parameters. */
export interface AuthorizeRequest {
  /** The loopback URL the provider sends the browser back to (RFC 8252 §7.3). */
  readonly redirectUri: string
  /** The S256 challenge of the client's own verifier (RFC 7636 §4.2). */
  readonly codeChallenge: string
  readonly state: string
  /** OpenID Connect's nonce, which the id_token must carry back; codex sends none. */
  readonly nonce: Option.Option<string>
  /** The workspace a sign-in must be in (`forced_chatgpt_workspace_id`; codex sends it as `allowed_workspace_id`). */
  readonly allowedWorkspaceId: Option.Option<string>
}

/** A browser login's authorization URL, and what the redirect back must carry besides `state`. */
export interface AuthorizeUrl {
  readonly url: string
  /** The `iss` the redirect must carry (RFC 9207), where the provider says it sends one. */
  readonly responseIss: Option.Option<string>
}

/** Where a browser login's redirect comes back to on loopback (RFC 8252 §7.3), and what else the dialect sends. */
export interface BrowserRedirect {
  /** The redirect URI's path: codex's `/auth/callback`, RFC 8252's `/callback`. */
  readonly callbackPath: string
  /** The port asked for when none is given: codex's 1455, else 0 (any free port). */
  readonly defaultPort: number
  /** The redirect URI for a server on `port`. */
  readonly redirectUri: (port: number) => string
  /** Whether the request carries an OpenID Connect `nonce` for the id_token to echo (RFC 8628 dialect; codex: no). */
  readonly sendsNonce: boolean
}

/** The sign-in a completed login yields: the tokens, and the id_token's claims read from them. */
export interface CompletedLogin {
  readonly tokens: TokenSet
  readonly claims: IdTokenClaims
}

/**
 * A login at one issuer, as one client: ask for a device code, poll it, and complete the approval into tokens; plus
 * the shape the new sign-in is stored in. Whatever differs between dialects is decided inside, so the login stages
 * never ask which one they run.
 */
export class LoginFlow extends Context.Tag("devicecode/LoginFlow")<
  LoginFlow,
  {
    readonly issuer: string
    /** The `auth_mode` a sign-in of this flow is stored with. */
    readonly authMode: "chatgpt" | "oidc"
    /** What the stored record remembers of this issuer; none for codex's own issuer and client (codex's exact file). */
    readonly origin: Option.Option<SignInOrigin>
    /** Asks for a device code and user code. */
    readonly start: Effect.Effect<DeviceCode, DeviceAuthError>
    /**
     * The URL a browser login opens: the issuer's authorization endpoint (codex's `/oauth/authorize`, an OpenID
     * provider's from discovery) with the request's parameters in the dialect's order; fails `Misconfigured` when the
     * provider has no authorization endpoint.
     */
    readonly authorizeUrl: (request: AuthorizeRequest) => Effect.Effect<AuthorizeUrl, DeviceAuthError>
    /** Where this dialect's browser login is sent back to. */
    readonly browserRedirect: BrowserRedirect
    /**
     * What a browser login does after its exchange to get an API key from the id_token (codex: RFC 8693 token exchange
     * for `openai-api-key`, stored as `OPENAI_API_KEY`); none in a dialect without one.
     */
    readonly exchangeApiKey: Option.Option<
      (idToken: Redacted.Redacted<string>) => Effect.Effect<Redacted.Redacted<string>, DeviceAuthError>
    >
    /** Polls once. */
    readonly poll: (code: DeviceCode) => Effect.Effect<PollResult, DeviceAuthError>
    /**
     * Turns an approval into tokens (an authorization code is exchanged once its PKCE pair checks out) and reads their
     * id_token; fails `Malformed` when this flow cannot use tokens without claims.
     */
    readonly complete: (grant: AuthorizationGrant) => Effect.Effect<CompletedLogin, DeviceAuthError>
    /**
     * When an access token issued at `now` expires, to keep in the record; none when readers take it from the JWT's
     * `exp` (codex reads no other field).
     */
    readonly storedExpiry: (
      expiresIn: Option.Option<Duration.Duration>,
      now: DateTime.Utc
    ) => Option.Option<DateTime.Utc>
  }
>() {}
