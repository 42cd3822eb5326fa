import { Option, Schema } from "effect"
import { isRecord, parseJson } from "./Json.js"

/** Codex dialect constants (codex-protocol.md). */
export const CODEX_DEFAULT_ISSUER = "https://auth.openai.com"
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"

/** Codex endpoints under an issuer whose trailing `/` is trimmed. */
export const codexEndpoints = (issuer: string) => ({
  userCode: `${issuer}/api/accounts/deviceauth/usercode`,
  poll: `${issuer}/api/accounts/deviceauth/token`,
  verification: `${issuer}/codex/device`,
  redirectUri: `${issuer}/deviceauth/callback`,
  token: `${issuer}/oauth/token`,
  revoke: `${issuer}/oauth/revoke`
})

/** Trims the trailing slashes codex trims from an issuer URL. */
export const normalizeIssuer = (issuer: string): string => issuer.trim().replace(/\/+$/, "")

/** §1 200 body: `user_code` may come as `usercode`; `interval` as a string, a number or not at all. */
export const UserCodeResponse = Schema.Struct({
  device_auth_id: Schema.String,
  user_code: Schema.optional(Schema.String),
  usercode: Schema.optional(Schema.String),
  interval: Schema.optional(Schema.Unknown),
  expires_at: Schema.optional(Schema.NullOr(Schema.String))
})

/** §3 200 body: the authorization code and the server-made PKCE pair. */
export const PollSuccessResponse = Schema.Struct({
  authorization_code: Schema.String,
  code_challenge: Schema.String,
  code_verifier: Schema.String
})

/** §4 200 body; extra fields such as `expires_in` are ignored. */
export const CodeExchangeResponse = Schema.Struct({
  id_token: Schema.String,
  access_token: Schema.String,
  refresh_token: Schema.String
})

/** §8 200 body: any of the three tokens. */
export const RefreshResponse = Schema.Struct({
  id_token: Schema.optional(Schema.String),
  access_token: Schema.optional(Schema.String),
  refresh_token: Schema.optional(Schema.String)
})

const text = (u: unknown): string | undefined => (typeof u === "string" && u.trim() !== "" ? u : undefined)

/** The error code of an OAuth or Codex error body: `error.code`, `error` as a string, or `code`. */
export const errorCode = (body: unknown): string | undefined => {
  if (!isRecord(body)) return undefined
  const error = body.error
  return (isRecord(error) ? text(error.code) : text(error)) ?? text(body.code)
}

const MAX_DETAIL = 300

/** The message to show for an error body (§3): error_description, error.message, error/error.code, raw text. */
export const errorDetail = (raw: string): string => {
  const body = Option.getOrUndefined(parseJson(raw))
  const found = isRecord(body)
    ? (text(body.error_description) ??
      (isRecord(body.error) ? (text(body.error.message) ?? text(body.error.code)) : text(body.error)) ??
      text(body.message))
    : undefined
  const detail = (found ?? raw).replace(/\s+/g, " ").trim()
  return detail.length > MAX_DETAIL ? `${detail.slice(0, MAX_DETAIL)}…` : detail
}
