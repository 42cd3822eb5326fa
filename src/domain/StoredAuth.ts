import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AuthJson, formatNanos, knownKeys, ORIGIN_KEY, PROVENANCE_KEY, subMillisecondNanos } from "./AuthJson.js"
import { Dialect } from "./Dialect.js"

/** How `last_refresh` is written and read to the nanosecond (defined beside the wire schema). */
export { formatNanos, subMillisecondNanos }

const Secret = Schema.RedactedFromSelf(Schema.String)

/** Where a stored sign-in was made, so refresh and logout go back to the same issuer. */
export class SignInOrigin extends Schema.Class<SignInOrigin>("SignInOrigin")({
  dialect: Dialect,
  issuer: Schema.String,
  clientId: Schema.String,
  scope: Schema.OptionFromSelf(Schema.String)
}) {}

/** Fields of a JSON object that devicecode does not know, in the order they were read. */
export const ExtraFields = Schema.Array(Schema.Tuple(Schema.String, Schema.Unknown))

/** Fields of a JSON object that devicecode does not know, in the order they were read. */
export type ExtraFields = typeof ExtraFields.Type

/** The `tokens` object of auth.json. */
export class StoredTokens extends Schema.Class<StoredTokens>("StoredTokens")({
  idToken: Schema.OptionFromSelf(Secret),
  accessToken: Secret,
  refreshToken: Schema.OptionFromSelf(Secret),
  accountId: Schema.OptionFromSelf(Schema.String),
  /**
   * codex's `login_owner_id`: 32 random bytes (base64url, no padding) drawn at each login and kept by every refresh;
   * none in a record written before codex had it (a refresh does not add one).
   */
  loginOwnerId: Schema.OptionFromSelf(Schema.String),
  /** When the access token expires, from `expires_in`; written only for sign-ins codex does not read. */
  expiresAt: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf),
  extra: ExtraFields
}) {}

/** auth.json as codex writes it (codex-protocol.md §7), plus the fields we did not recognise, kept for rewrite. */
export class StoredAuth extends Schema.Class<StoredAuth>("StoredAuth")({
  authMode: Schema.OptionFromSelf(Schema.String),
  apiKey: Schema.OptionFromSelf(Secret),
  tokens: Schema.OptionFromSelf(StoredTokens),
  lastRefresh: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf),
  /**
   * The nanoseconds within `lastRefresh`'s millisecond (0–999 999): codex writes `last_refresh` with nanoseconds, and
   * a record read and written again keeps all nine digits. Absent: 0.
   */
  lastRefreshNanos: Schema.optional(Schema.Number),
  /** Present only when the sign-in used a non-default issuer, client id or dialect. */
  origin: Schema.OptionFromSelf(SignInOrigin),
  extra: ExtraFields
}) {}

/** How a stored sign-in authenticates: ChatGPT (Codex dialect), an API key, or an RFC 8628 provider's tokens. */
export type AuthMethod = "chatgpt" | "apikey" | "oidc"

/** Whether the record holds an API key that can be used: present, and not empty or only white space. */
export const hasApiKey = (auth: StoredAuth): boolean =>
  Option.exists(auth.apiKey, (key) => Redacted.value(key).trim() !== "")

/**
 * codex's rule: `auth_mode` wins; without it a key means API-key auth and tokens mean ChatGPT. A record with nothing
 * to hand out (`"auth_mode": "apikey"` with a null or empty key, `{}`) is no sign-in: `status`, `token` and
 * `logout` all read it as not logged in.
 */
export const authMethod = (auth: StoredAuth): Option.Option<AuthMethod> => {
  const mode = Option.getOrUndefined(auth.authMode)
  if (mode === "apikey") return hasApiKey(auth) ? Option.some("apikey") : Option.none()
  if (mode === "oidc" && Option.isSome(auth.tokens)) return Option.some("oidc")
  if (mode !== undefined && Option.isSome(auth.tokens)) return Option.some("chatgpt")
  if (hasApiKey(auth)) return Option.some("apikey")
  return Option.isSome(auth.tokens) ? Option.some("chatgpt") : Option.none()
}

/** The record codex's API-key login writes. */
export const apiKeyAuth = (key: Redacted.Redacted<string>, extra: ExtraFields = []): StoredAuth =>
  new StoredAuth({
    authMode: Option.some("apikey"),
    apiKey: Option.some(key),
    tokens: Option.none(),
    lastRefresh: Option.none(),
    origin: Option.none(),
    extra
  })

const opt = <A>(value: A | null | undefined): Option.Option<A> => Option.fromNullable(value)

const extras = (object: Record<string, unknown>, known: ReadonlySet<string>): ExtraFields =>
  Object.entries(object).filter(([key]) => !known.has(key))

const fields = <A>(option: Option.Option<A>, key: string): Record<string, A> =>
  Option.isSome(option) ? { [key]: option.value } : {}

/**
 * auth.json's object and the domain record, both ways: codex's fields in codex's order (`OPENAI_API_KEY` always
 * written, `tokens` and `last_refresh` only when set), a Codex-dialect sign-in's issuer as `tokens.oauth_provenance`
 * (where codex 0.169 writes it, before `login_owner_id`) and any other origin under `devicecode`, then the fields
 * devicecode does not know, in the order they were read.
 */
export const StoredAuthFromJson = Schema.transform(AuthJson, StoredAuth, {
  strict: true,
  decode: (json) => ({
    authMode: opt(json.auth_mode),
    apiKey: opt(json.OPENAI_API_KEY),
    tokens: Option.map(opt(json.tokens), (tokens) => ({
      idToken: opt(tokens.id_token),
      accessToken: tokens.access_token,
      refreshToken: opt(tokens.refresh_token),
      accountId: opt(tokens.account_id),
      loginOwnerId: opt(tokens.login_owner_id),
      expiresAt: opt(tokens.expires_at),
      extra: extras(tokens, knownKeys.tokens)
    })),
    lastRefresh: Option.map(opt(json.last_refresh), ({ at }) => at),
    ...(json.last_refresh ? { lastRefreshNanos: json.last_refresh.nanos } : {}),
    origin: Option.orElse(
      Option.map(opt(json[ORIGIN_KEY]), (origin) => ({
        dialect: origin.dialect,
        issuer: origin.issuer,
        clientId: origin.client_id,
        scope: opt(origin.scope)
      })),
      () =>
        Option.map(opt(json.tokens?.[PROVENANCE_KEY]), (provenance) => ({
          dialect: "codex" as const,
          issuer: provenance.issuer,
          clientId: provenance.client_id,
          scope: Option.none()
        }))
    ),
    extra: extras(json, knownKeys.top)
  }),
  encode: (auth) => {
    const origin = Option.getOrUndefined(auth.origin)
    // codex records a Codex-dialect sign-in's issuer as tokens.oauth_provenance; other dialects use our own key.
    const provenance = origin?.dialect === "codex" && Option.isSome(auth.tokens) ? origin : undefined
    // the schema writes its own fields first, then the rest in the order given; a known field always wins
    return {
      ...Object.fromEntries(auth.extra),
      ...fields(auth.authMode, "auth_mode"),
      OPENAI_API_KEY: Option.getOrNull(auth.apiKey),
      ...fields(
        Option.map(auth.tokens, (tokens) => ({
          ...Object.fromEntries(tokens.extra),
          id_token: Option.getOrNull(tokens.idToken),
          access_token: tokens.accessToken,
          refresh_token: Option.getOrNull(tokens.refreshToken),
          ...(provenance ? { [PROVENANCE_KEY]: { issuer: provenance.issuer, client_id: provenance.clientId } } : {}),
          ...fields(tokens.loginOwnerId, "login_owner_id"),
          account_id: Option.getOrNull(tokens.accountId),
          ...fields(tokens.expiresAt, "expires_at")
        })),
        "tokens"
      ),
      ...fields(
        Option.map(auth.lastRefresh, (at) => ({ at, nanos: auth.lastRefreshNanos ?? 0 })),
        "last_refresh"
      ),
      ...(origin && !provenance
        ? {
            [ORIGIN_KEY]: {
              dialect: origin.dialect,
              issuer: origin.issuer,
              client_id: origin.clientId,
              ...fields(origin.scope, "scope")
            }
          }
        : {})
    }
  }
})

const decodeStoredAuth = Schema.decodeUnknownEither(Schema.parseJson(StoredAuthFromJson))
// made on first use: compiling an encoder is work a start that only reads (status, a fresh token) never needs
let encoder: ((auth: StoredAuth) => typeof AuthJson.Encoded) | undefined
const encodeAuthJson = (auth: StoredAuth) => (encoder ??= Schema.encodeSync(StoredAuthFromJson))(auth)

// Names where the first problem is and its kind, never the value found there: it may be a token.
const describeProblem = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (!issue || issue.path.length === 0) {
    return issue?.message.startsWith("Expected { ") || !issue ? "not a JSON object" : "not valid JSON"
  }
  const where = issue.path.map(String).join(".")
  return issue._tag === "Missing" ? `${where} is missing` : `${where} has the wrong type`
}

/** Parses the text of an auth.json; the error names what is wrong (never a secret). */
export const parseStoredAuth = (text: string): Either.Either<StoredAuth, string> =>
  Either.mapLeft(decodeStoredAuth(text), describeProblem)

/**
 * The exact bytes codex writes: serde's pretty printer (2 spaces, no trailing newline), fields as
 * {@link StoredAuthFromJson} orders them.
 */
export const encodeStoredAuth = (auth: StoredAuth): string => JSON.stringify(encodeAuthJson(auth), null, 2)

/** The compact JSON codex stores as a keyring secret: the same fields in the same order, without white space. */
export const encodeStoredAuthCompact = (auth: StoredAuth): string => JSON.stringify(encodeAuthJson(auth))
