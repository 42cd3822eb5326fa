import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { DeviceCode, parseInterval } from "./DeviceCode.js"
import { isRecord, nonEmpty, parseJson } from "./Json.js"
import { expiresInField, lifetime, optionalToken, secret, TokenRefresh, TokenSet, WireToken } from "./TokenSet.js"

export {
  CODEX_BROWSER_PORT,
  CODEX_BROWSER_SCOPE,
  CODEX_CLIENT_ID,
  CODEX_DEFAULT_ISSUER,
  codexEndpoints,
  normalizeIssuer
} from "./CodexConstants.js"
import { CODEX_BROWSER_PORT, CODEX_BROWSER_SCOPE } from "./CodexConstants.js"

/** The redirect URI of codex's browser login with its callback server on `port`: 127.0.0.1, not localhost. */
export const codexBrowserRedirectUri = (port: number): string => `http://127.0.0.1:${port}/auth/callback`

/** Where codex's browser login is sent back to: `/auth/callback` on 127.0.0.1, port 1455 unless told otherwise. */
export const codexBrowserRedirect = {
  callbackPath: "/auth/callback",
  defaultPort: CODEX_BROWSER_PORT,
  redirectUri: codexBrowserRedirectUri,
  // codex sends no nonce
  sendsNonce: false
} as const

/** RFC 8693 token exchange: what codex's browser login trades its id_token for, an API key. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"

/** What codex's token exchange asks for (`requested_token`). */
export const API_KEY_TOKEN = "openai-api-key"

/** What codex's token exchange hands over (`subject_token_type`): its id_token. */
export const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"

/**
 * The form of codex's API-key token exchange after a browser login, in codex's order: the id_token is the subject,
 * and `openai-api-key` the token asked for.
 */
export const codexApiKeyExchangeForm = (clientId: string, idToken: string): URLSearchParams =>
  new URLSearchParams([
    ["grant_type", TOKEN_EXCHANGE_GRANT],
    ["client_id", clientId],
    ["requested_token", API_KEY_TOKEN],
    ["subject_token", idToken],
    ["subject_token_type", ID_TOKEN_TYPE]
  ])

/** The answer to codex's API-key token exchange: the key is its `access_token`. */
export const ApiKeyExchangeResponse = Schema.Struct({ access_token: Schema.NonEmptyTrimmedString })

/** What codex's authorization request (its browser login) carries. */
export interface CodexAuthorizeRequest {
  /** The issuer, trailing `/` trimmed. */
  readonly issuer: string
  readonly clientId: string
  readonly redirectUri: string
  readonly codeChallenge: string
  readonly state: string
  /** `forced_chatgpt_workspace_id`, sent as `allowed_workspace_id`. */
  readonly allowedWorkspaceId: Option.Option<string>
}

/**
 * The URL codex's browser login opens (codex 0.169 and 0.171, as printed): `{issuer}/oauth/authorize` with these
 * parameters in this order, form-encoded (a space as `+`), and `allowed_workspace_id` last when a workspace is forced.
 */
export const codexAuthorizeUrl = (request: CodexAuthorizeRequest): string => {
  const query = new URLSearchParams([
    ["response_type", "code"],
    ["client_id", request.clientId],
    ["redirect_uri", request.redirectUri],
    ["code_challenge", request.codeChallenge],
    ["code_challenge_method", "S256"],
    ["state", request.state],
    ["scope", CODEX_BROWSER_SCOPE],
    ["id_token_add_organizations", "true"],
    ["codex_cli_simplified_flow", "true"],
    ["originator", "codex_cli_rs"]
  ])
  if (Option.isSome(request.allowedWorkspaceId)) query.append("allowed_workspace_id", request.allowedWorkspaceId.value)
  return `${request.issuer}/oauth/authorize?${query.toString()}`
}

/**
 * The revoke endpoint codex derives from `CODEX_REFRESH_TOKEN_URL_OVERRIDE` when no revoke override is set: the same
 * origin, the path `/oauth/revoke`, no query. None when the refresh URL is not an absolute URL.
 */
export const revokeUrlFromRefreshUrl = (refreshUrl: string): Option.Option<string> => {
  if (!URL.canParse(refreshUrl.trim())) return Option.none()
  const url = new URL(refreshUrl.trim())
  url.pathname = "/oauth/revoke"
  url.search = ""
  return Option.some(url.toString())
}

/** §1 200 body: `user_code` may come as `usercode`; `interval` as a string, a number or not at all. */
export const UserCodeResponse = Schema.Struct({
  device_auth_id: WireToken,
  user_code: Schema.optional(Schema.String),
  usercode: Schema.optional(Schema.String),
  interval: Schema.optional(Schema.Unknown),
  expires_at: Schema.optional(Schema.NullOr(Schema.String))
})

/** §3 200 body: the authorization code and the server-made PKCE pair. */
export const PollSuccessResponse = Schema.Struct({
  authorization_code: WireToken,
  code_challenge: WireToken,
  code_verifier: WireToken
})

/** §4 200 body; extra fields such as `expires_in` are ignored. Every token must be usable as it is. */
export const CodeExchangeResponse = Schema.Struct({
  id_token: WireToken,
  access_token: WireToken,
  refresh_token: WireToken
})

/** §8 200 body: any of the three tokens (null reads as absent, as codex's serde does); each one sent must be usable. */
export const RefreshResponse = Schema.Struct({
  id_token: Schema.optionalWith(WireToken, { nullable: true }),
  access_token: Schema.optionalWith(WireToken, { nullable: true }),
  refresh_token: Schema.optionalWith(WireToken, { nullable: true })
})

/** codex's `expires_in` (which codex itself ignores): a number of seconds up to ten years, anything else none. */
export const CodexExpiresIn = expiresInField((raw) => (typeof raw === "number" ? lifetime(raw) : Option.none()))

/**
 * §1 200 body ↔ {@link DeviceCode}: the user code from `user_code` or `usercode` (a blank one is missing), the interval
 * by {@link parseInterval}, `expires_at` when it is an instant. The body names no page: `verificationUri` is codex's
 * (`codexEndpoints(issuer).verification`). Written back, the interval is a string of seconds, as the live server sends.
 */
export const CodexDeviceCodeFromWire = (verificationUri: string) =>
  Schema.transformOrFail(UserCodeResponse, DeviceCode, {
    strict: true,
    decode: (wire, _, ast) => {
      const userCode = nonEmpty(wire.user_code) ?? nonEmpty(wire.usercode)
      return userCode === undefined
        ? ParseResult.fail(new ParseResult.Type(ast, wire.user_code ?? wire.usercode, "missing user_code"))
        : ParseResult.succeed({
            deviceCode: Redacted.make(wire.device_auth_id),
            userCode,
            verificationUri,
            verificationUriComplete: Option.none(),
            interval: parseInterval(wire.interval),
            expiresAt: Option.flatMap(Option.fromNullable(nonEmpty(wire.expires_at)), DateTime.make)
          })
    },
    encode: (code) =>
      ParseResult.succeed({
        device_auth_id: Redacted.value(code.deviceCode),
        user_code: code.userCode,
        interval: String(Duration.toSeconds(code.interval)),
        ...(Option.isSome(code.expiresAt) ? { expires_at: DateTime.formatIso(code.expiresAt.value) } : {})
      })
  })

/** §4 200 body ↔ {@link TokenSet}: all three tokens, each Redacted, and `expires_in` by {@link CodexExpiresIn}. */
export const CodexTokenSetFromWire = Schema.transformOrFail(
  Schema.Struct({ ...CodeExchangeResponse.fields, expires_in: CodexExpiresIn }),
  TokenSet,
  {
    strict: true,
    decode: (wire) =>
      ParseResult.succeed({
        accessToken: Redacted.make(wire.access_token),
        idToken: Option.some(Redacted.make(wire.id_token)),
        refreshToken: Option.some(Redacted.make(wire.refresh_token)),
        expiresIn: wire.expires_in
      }),
    encode: (tokens, _, ast) =>
      Option.match(Option.all([tokens.idToken, tokens.refreshToken]), {
        onNone: () =>
          ParseResult.fail(
            new ParseResult.Type(ast, tokens, "a Codex token answer has an id_token and a refresh_token")
          ),
        onSome: ([idToken, refreshToken]) =>
          ParseResult.succeed({
            id_token: Redacted.value(idToken),
            access_token: Redacted.value(tokens.accessToken),
            refresh_token: Redacted.value(refreshToken),
            expires_in: tokens.expiresIn
          })
      })
  }
)

/** §8 200 body ↔ {@link TokenRefresh}: the tokens sent, each Redacted, and `expires_in` by {@link CodexExpiresIn}. */
export const CodexRefreshFromWire = Schema.transform(
  Schema.Struct({ ...RefreshResponse.fields, expires_in: CodexExpiresIn }),
  TokenRefresh,
  {
    strict: true,
    decode: (wire) => ({
      accessToken: secret(wire.access_token),
      idToken: secret(wire.id_token),
      refreshToken: secret(wire.refresh_token),
      expiresIn: wire.expires_in
    }),
    encode: (tokens) => ({
      ...optionalToken("id_token", tokens.idToken),
      ...optionalToken("access_token", tokens.accessToken),
      ...optionalToken("refresh_token", tokens.refreshToken),
      expires_in: tokens.expiresIn
    })
  }
)

const text = (u: unknown): string | undefined => (typeof u === "string" && u.trim() !== "" ? u : undefined)

const MAX_FIELD = 300
const MAX_SNIPPET = 100

// a run of base64url that reads as words (`deviceauth_authorization_pending`) is a code, not a secret
const wordy = /^(?:[a-z]+(?:[_-][a-z]+)*|[A-Z]+(?:[_-][A-Z]+)*)$/

/**
 * Replaces with `…` whatever looks like a token or key: a JWT (`eyJ…`), a refresh token (`rt_…`), an API key (`sk-…`)
 * and any base64url run of 32 characters or more that is not made of plain words.
 */
export const redactSecrets = (s: string): string =>
  s
    .replace(/\beyJ[\w-]*(?:\.[\w-]*)*/g, "…")
    .replace(/\b(?:rt_|sk-)[\w-]*/g, "…")
    .replace(/[\w-]{32,}/g, (run) => (wordy.test(run) ? run : "…"))

/** Server-chosen text made fit for a message: one line, no control or format characters, no secrets, at most `max`. */
export const sanitizeServerText = (s: string, max: number): string => {
  const clean = redactSecrets(s.replace(/\s+/g, " ").replace(/[\p{Cc}\p{Cf}]/gu, "")).trim()
  const chars = Array.from(clean)
  return chars.length > max ? `${chars.slice(0, max).join("")}…` : clean
}

/** The error code of an OAuth or Codex error body: `error.code`, `error` as a string, or `code`. */
export const errorCode = (body: unknown): string | undefined => {
  if (!isRecord(body)) return undefined
  const error = body.error
  const code = (isRecord(error) ? text(error.code) : text(error)) ?? text(body.code)
  return code === undefined ? undefined : sanitizeServerText(code, MAX_SNIPPET)
}

/**
 * The message to show for an error body (§3): of a JSON body only its error_description, error.message, error or
 * error.code, or message — never the rest, which may hold tokens; of any other body a short snippet. Either way one
 * sanitised line with whatever looks like a secret replaced by `…`; empty when there is nothing to show.
 */
export const errorDetail = (raw: string): string => {
  const body = parseJson(raw)
  if (Option.isNone(body)) {
    // broken or too deep JSON is still JSON: none of it is shown
    return /^\s*[[{]/.test(raw) ? "" : sanitizeServerText(raw, MAX_SNIPPET)
  }
  const json = body.value
  const found = isRecord(json)
    ? (text(json.error_description) ??
      (isRecord(json.error) ? (text(json.error.message) ?? text(json.error.code)) : text(json.error)) ??
      text(json.message))
    : undefined
  return found === undefined ? "" : sanitizeServerText(found, MAX_FIELD)
}
