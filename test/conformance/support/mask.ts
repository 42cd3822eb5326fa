// Random values (PKCE verifiers, device ids, user codes, authorization codes, tokens, owner ids, timestamps) are
// compared by shape, never by value: each is replaced by a «description» of its shape, and the descriptions compared.

const BASE64URL = /^[A-Za-z0-9_-]+$/
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/
// Only these prefixes are named: a random base64url value may well start with "s_" (it did)
const PREFIXED = /^(deviceauth_|rt_|ac_)([A-Za-z0-9_-]+)$/
const USER_CODE = /^[A-Z0-9]{4}-[A-Z0-9]{5}$/
const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/
const API_KEY = /^(sk-(?:proj-)?)(.*)$/

/**
 * The precision of an RFC 3339 fraction. codex writes nanoseconds with chrono's `AutoSi` format, which trims trailing
 * zeros to 6 or 3 digits: 9 digits, or 6 not ending in 000 (one write in a thousand), are both "nanoseconds".
 */
const precisionOf = (fraction: string): string => {
  if ((fraction.length === 9 || fraction.length === 6) && !fraction.endsWith("000")) return "nanoseconds (AutoSi)"
  if (fraction.length === 0) return "whole seconds"
  return `${fraction.length} fractional digits${fraction.length > 3 && fraction.endsWith("000") ? " ending in 000" : ""}`
}

/** The shape of a random value: what kind of value it is and its length, never its characters. */
export const shapeOf = (value: unknown): string => {
  if (value === null) return "null"
  if (typeof value !== "string") return `«${typeof value}»`
  if (JWT.test(value)) {
    try {
      const header = JSON.parse(Buffer.from(value.split(".")[0]!, "base64url").toString("utf8")) as { alg?: unknown }
      return `«jwt, alg ${String(header.alg)}»`
    } catch {
      return `«three base64url parts, not a JWT»`
    }
  }
  const time = RFC3339.exec(value)
  if (time) return `«RFC 3339 ${time[2] === "Z" ? "UTC" : "with an offset"}, ${precisionOf(time[1] ?? "")}»`
  if (USER_CODE.test(value)) return "«user code XXXX-XXXXX»"
  const prefixed = PREFIXED.exec(value)
  if (prefixed) return `«${prefixed[1]} + base64url(${prefixed[2]!.length})»`
  const key = API_KEY.exec(value)
  if (key) return `«${key[1]} + ${key[2]!.length} chars»`
  if (BASE64URL.test(value)) return `«base64url(${value.length})»`
  return `«string(${value.length})»`
}

/**
 * Names whose values are random in a request body, auth.json or keyring secret: compared by shape. Everything else
 * (client id, grant type, redirect URI, issuer, account id, auth mode) is compared by value.
 */
export const RANDOM_KEYS: ReadonlySet<string> = new Set([
  "device_auth_id",
  "user_code",
  "code",
  "code_verifier",
  "refresh_token",
  "token",
  "id_token",
  "access_token",
  "login_owner_id",
  "last_refresh",
  "OPENAI_API_KEY"
])

/** A value as compared: its shape if its name is random, else itself (objects and arrays masked all through). */
export const maskValue = (key: string, value: unknown, known: KnownValues): unknown => {
  if (typeof value === "string" && known.apiKey !== undefined && value === known.apiKey)
    return "«the API key given on stdin»"
  if (Array.isArray(value)) return value.map((item) => maskValue(key, item, known))
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([name, child]) => [name, maskValue(name, child, known)]))
  }
  return RANDOM_KEYS.has(key) && value !== null ? shapeOf(value) : value
}

/** Values that differ between the two sides by construction, and what they stand for. */
export interface KnownValues {
  /** The CODEX_HOME of this side. */
  readonly home?: string
  /** Its keyring account, `cli|` + 16 hex chars. */
  readonly account?: string
  /** The API key the scenario pipes to both tools. */
  readonly apiKey?: string
}

// Anything shaped like a secret is masked in text before it can be compared or printed (CI scans the test output).
const SECRET_TEXT: ReadonlyArray<readonly [RegExp, (match: string) => string]> = [
  [/eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*/g, shapeOf],
  [/\brt_[A-Za-z0-9_-]{8,}/g, shapeOf],
  [/\bsk-[A-Za-z0-9_-]{8,}/g, shapeOf],
  [/\b[A-Z0-9]{4}-[A-Z0-9]{5}\b/g, shapeOf]
]

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** Anything shaped like a token or an API key in a text, replaced by its shape. */
export const scrubSecrets = (text: string): string =>
  SECRET_TEXT.slice(0, 3).reduce((masked, [pattern, shape]) => masked.replace(pattern, shape), text)

/** A line of output as compared: no escape codes, no secrets, no user code, this side's paths and account named. */
export const maskText = (text: string, known: KnownValues): string => {
  // eslint-disable-next-line no-control-regex
  let masked = text.replace(/\u001b\[[0-9;?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)/g, "")
  if (known.apiKey !== undefined) masked = masked.split(known.apiKey).join("«the API key given on stdin»")
  if (known.home !== undefined) masked = masked.replace(new RegExp(escapeRegExp(known.home), "g"), "$CODEX_HOME")
  if (known.account !== undefined) masked = masked.split(known.account).join("cli|«sha256(CODEX_HOME)[0..16]»")
  for (const [pattern, shape] of SECRET_TEXT) masked = masked.replace(pattern, shape)
  return masked
}

/** Masks the instants and durations a status line names (they depend on when each sign-in was made). */
export const maskTimes = (text: string): string =>
  text
    .replace(/\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)/g, "«instant»")
    .replace(/\bin \d+ (?:seconds?|minutes?|hours?|days?)\b/g, "in «duration»")
