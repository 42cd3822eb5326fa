/** A canned answer for the next request(s) to `path`, consumed before normal handling. */
export interface Fault {
  readonly path: string
  readonly status?: number
  readonly body?: string
  readonly headers?: Record<string, string>
  /** How many matching requests it answers; default 1. */
  readonly times?: number
  /** Never answer (the socket stays open until the issuer closes). */
  readonly hang?: boolean
  /** Destroy the socket without an answer. */
  readonly reset?: boolean
  /**
   * Stream a body of this many bytes: `body` (default: the start of a JSON error whose message never ends) and then
   * `a`s, in 64 KiB chunks as fast as the client reads, with no Content-Length; never held in memory, so a test can
   * send 100 MiB. The streaming stops when the client hangs up.
   */
  readonly bodyBytes?: number
  /**
   * Send the status and headers at once, then the body (`body`, or `bodyBytes` of it) `dripBytes` at a time (default
   * 1), one piece every `dripMillis` milliseconds: a server that answers, but never quite finishes.
   */
  readonly dripMillis?: number
  readonly dripBytes?: number
}

/**
 * What the discovery documents say: `normal`; `no-device-endpoint` (no `device_authorization_endpoint`, no device_code
 * grant type; browser login still advertised); `no-authorize-endpoint` (no `authorization_endpoint`, no
 * authorization_code grant type, no `authorization_response_iss_parameter_supported`; device login still advertised);
 * `wrong-issuer` (an `issuer` other than the URL it was fetched from); `missing` (both paths answer 404).
 */
export type LocalIssuerDiscovery =
  | "normal"
  | "no-device-endpoint"
  | "no-authorize-endpoint"
  | "wrong-issuer"
  | "missing"

/** The error redirect an Approve on the sign-in page answers instead of a code (RFC 6749 §4.1.2.1). */
export interface LocalIssuerAuthorizeError {
  /** The redirect's `error`, e.g. `access_denied`. */
  readonly error: string
  /** The redirect's `error_description`; left out when absent. */
  readonly description?: string
}

/**
 * The `iss` of the RFC 8628 dialect's sign-in redirects (RFC 9207): `normal` (the issuer's URL), `wrong`
 * (`WRONG_ISSUER`) or `missing` (left out).
 */
export type LocalIssuerAuthorizeIss = "normal" | "wrong" | "missing"

/**
 * The `nonce` of the id_token an authorization-code exchange mints: `echo` (the one the sign-in request gave, none if
 * it gave none), `wrong` (another one, even when none was given) or `missing` (none).
 */
export type LocalIssuerIdTokenNonce = "echo" | "wrong" | "missing"

/** Codex's token exchange for an API key: `normal`, or `fail` (400 `invalid_grant`). */
export type LocalIssuerApiKeyExchange = "normal" | "fail"

/** Misbehaviours a test can switch on while the issuer runs. */
export interface LocalIssuerKnobs {
  /** The next N polls of a pending code, in either dialect, answer `slow_down`. */
  readonly slowDownPolls: number
  /** Both device-code endpoints (codex usercode, RFC 8628 device authorization) answer 404. */
  readonly deviceCodeDisabled: boolean
  readonly discovery: LocalIssuerDiscovery
  readonly faults: ReadonlyArray<Fault>
  /** Lifetime of the access tokens minted from now on, in seconds (0: born expired). */
  readonly accessTokenTtlSeconds: number
  /** An approved Codex poll answers a `code_challenge` that is not S256 of the `code_verifier` it sends. */
  readonly mismatchedPkce: boolean
  /** Each refresh is answered this many milliseconds after it arrived (the token is spent when it is answered). */
  readonly refreshDelayMillis: number
  /** An Approve on the sign-in page, in either dialect, redirects with this error instead of a code; null: a code. */
  readonly authorizeError: LocalIssuerAuthorizeError | null
  /** The `iss` of the RFC 8628 dialect's sign-in redirects; `normal` by default. */
  readonly authorizeIss: LocalIssuerAuthorizeIss
  /** The `nonce` of the id_tokens that authorization-code exchanges mint; `echo` by default. */
  readonly idTokenNonce: LocalIssuerIdTokenNonce
  /** Codex's token-exchange grant (an API key for an id_token); `normal` by default. */
  readonly apiKeyExchange: LocalIssuerApiKeyExchange
}

/** Where a device code stands. */
export type LocalIssuerCodeStatus = "pending" | "approved" | "denied" | "expired" | "redeemed"

/** Request counts, per endpoint and per notable answer. */
export interface LocalIssuerStats {
  /** Codex usercode requests. */
  readonly usercode: number
  /** Codex polls. */
  readonly poll: number
  /** RFC 8628 device authorization requests. */
  readonly deviceAuthorization: number
  /** RFC 8628 device_code grants at /oauth/token. */
  readonly devicePoll: number
  /** GETs of either discovery document. */
  readonly discovery: number
  /** authorization_code grants at /oauth/token, of either dialect. */
  readonly exchange: number
  /** refresh_token grants at /oauth/token. */
  readonly refresh: number
  /** token-exchange grants (API key) at /oauth/token. */
  readonly tokenExchange: number
  readonly revoke: number
  /** GET and POST of either approval page. */
  readonly devicePage: number
  /** GET and POST of the browser login's sign-in page (`/oauth/authorize`), in either dialect. */
  readonly authorizePage: number
  readonly slowDown: number
  readonly refreshTokenReused: number
  /** Requests answered by a queued fault. */
  readonly faults: number
  readonly notFound: number
  /** Requests to the protected `GET /v1/me`. */
  readonly me: number
}

/** One request the issuer saw, for assertions and debugging. */
export interface LocalIssuerRequest {
  readonly method: string
  readonly path: string
  /** The status answered, or how a fault dropped it. */
  readonly status: number | "reset" | "hang"
  /** `grant_type` of a token request. */
  readonly grantType?: string
  /** The headers as sent, in order, names lower-cased (Node's `rawHeaders`). */
  readonly headers: ReadonlyArray<readonly [string, string]>
  /** The body as sent (UTF-8), when it was read: a fault answers before reading it. */
  readonly body?: string
  /** The query string as sent, `?` included, or empty. */
  readonly search: string
}
