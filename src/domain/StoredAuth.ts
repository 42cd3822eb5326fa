import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** Where a stored sign-in was made, so refresh and logout go back to the same issuer. */
export class SignInOrigin extends Data.Class<{
  readonly dialect: "codex" | "rfc8628"
  readonly issuer: string
  readonly clientId: string
  readonly scope: Option.Option<string>
}> {}

/** Fields of a JSON object that devicecode does not know, in the order they were read. */
export type ExtraFields = ReadonlyArray<readonly [string, unknown]>

/** The `tokens` object of auth.json. */
export class StoredTokens extends Data.Class<{
  readonly idToken: Option.Option<Redacted.Redacted<string>>
  readonly accessToken: Redacted.Redacted<string>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  readonly accountId: Option.Option<string>
  /**
   * codex's `login_owner_id`: 32 random bytes (base64url, no padding) drawn at each login and kept by every refresh;
   * none in a record written before codex had it (a refresh does not add one).
   */
  readonly loginOwnerId: Option.Option<string>
  /** When the access token expires, from `expires_in`; written only for sign-ins codex does not read. */
  readonly expiresAt: Option.Option<DateTime.Utc>
  readonly extra: ExtraFields
}> {}

/** auth.json as codex writes it (codex-protocol.md §7), plus the fields we did not recognise, kept for rewrite. */
export class StoredAuth extends Data.Class<{
  readonly authMode: Option.Option<string>
  readonly apiKey: Option.Option<Redacted.Redacted<string>>
  readonly tokens: Option.Option<StoredTokens>
  readonly lastRefresh: Option.Option<DateTime.Utc>
  /**
   * The nanoseconds within `lastRefresh`'s millisecond (0–999 999): codex writes `last_refresh` with nanoseconds, and
   * a record read and written again keeps all nine digits. Absent: 0.
   */
  readonly lastRefreshNanos?: number
  /** Present only when the sign-in used a non-default issuer, client id or dialect. */
  readonly origin: Option.Option<SignInOrigin>
  readonly extra: ExtraFields
}> {}

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

const ORIGIN_KEY = "devicecode"
const TOP_KEYS = new Set(["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh", ORIGIN_KEY])
const PROVENANCE_KEY = "oauth_provenance"
const OWNER_KEY = "login_owner_id"
const TOKEN_KEYS = new Set([
  "id_token",
  "access_token",
  "refresh_token",
  PROVENANCE_KEY,
  OWNER_KEY,
  "account_id",
  "expires_at"
])

const NullableString = Schema.optional(Schema.NullOr(Schema.String))
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** The nanoseconds within the millisecond of an RFC 3339 instant written with more than three fractional digits. */
export const subMillisecondNanos = (text: string): number => {
  const fraction = /\.(\d+)(?:Z|[+-]\d\d:?\d\d)$/i.exec(text)?.[1]
  return fraction === undefined || fraction.length <= 3 ? 0 : Number(fraction.slice(3, 9).padEnd(6, "0"))
}

/** An instant as codex writes `last_refresh`: RFC 3339 in UTC with nine fractional digits (chrono's `Nanos`). */
export const formatNanos = (at: DateTime.Utc, nanos: number = 0): string =>
  `${DateTime.formatIso(at).slice(0, -1)}${String(Math.trunc(nanos)).padStart(6, "0")}Z`

// the instant and the nanoseconds within its millisecond, which a DateTime cannot hold
const LastRefreshJson = Schema.transformOrFail(
  Schema.String,
  Schema.Struct({ at: Schema.DateTimeUtcFromSelf, nanos: Schema.Number }),
  {
    strict: true,
    decode: (text, _, ast) =>
      Option.match(DateTime.make(text), {
        onNone: () => ParseResult.fail(new ParseResult.Type(ast, text, "not an RFC 3339 instant")),
        onSome: (at) => ParseResult.succeed({ at: DateTime.toUtc(at), nanos: subMillisecondNanos(text) })
      }),
    encode: ({ at, nanos }) => ParseResult.succeed(formatNanos(at, nanos))
  }
)

const TokensJson = Schema.Struct(
  {
    id_token: NullableString,
    access_token: Schema.String,
    refresh_token: NullableString,
    [PROVENANCE_KEY]: Schema.optional(Schema.Struct({ issuer: Schema.String, client_id: Schema.String })),
    [OWNER_KEY]: NullableString,
    account_id: NullableString,
    expires_at: Schema.optional(Schema.DateTimeUtc)
  },
  Rest
)

const OriginJson = Schema.Struct({
  dialect: Schema.Literal("codex", "rfc8628"),
  issuer: Schema.String,
  client_id: Schema.String,
  scope: Schema.optional(Schema.String)
})

const AuthJson = Schema.Struct(
  {
    auth_mode: NullableString,
    OPENAI_API_KEY: NullableString,
    tokens: Schema.optional(Schema.NullOr(TokensJson)),
    last_refresh: Schema.optional(Schema.NullOr(LastRefreshJson)),
    [ORIGIN_KEY]: Schema.optional(OriginJson)
  },
  Rest
)

const decodeAuthJson = Schema.decodeUnknownEither(Schema.parseJson(AuthJson))

const extras = (object: Record<string, unknown>, known: ReadonlySet<string>): ExtraFields =>
  Object.entries(object).filter(([key]) => !known.has(key))

const opt = (value: string | null | undefined): Option.Option<string> => Option.fromNullable(value)

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
  decodeAuthJson(text).pipe(
    Either.mapLeft(describeProblem),
    Either.map(
      (json) =>
        new StoredAuth({
          authMode: opt(json.auth_mode),
          apiKey: Option.map(opt(json.OPENAI_API_KEY), Redacted.make),
          tokens: Option.map(
            Option.fromNullable(json.tokens),
            (tokens) =>
              new StoredTokens({
                idToken: Option.map(opt(tokens.id_token), Redacted.make),
                accessToken: Redacted.make(tokens.access_token),
                refreshToken: Option.map(opt(tokens.refresh_token), Redacted.make),
                loginOwnerId: opt(tokens[OWNER_KEY]),
                accountId: opt(tokens.account_id),
                expiresAt: Option.fromNullable(tokens.expires_at),
                extra: extras(tokens, TOKEN_KEYS)
              })
          ),
          lastRefresh: Option.map(Option.fromNullable(json.last_refresh), ({ at }) => at),
          ...(json.last_refresh ? { lastRefreshNanos: json.last_refresh.nanos } : {}),
          origin: Option.orElse(
            Option.map(
              Option.fromNullable(json[ORIGIN_KEY]),
              (origin) =>
                new SignInOrigin({
                  dialect: origin.dialect,
                  issuer: origin.issuer,
                  clientId: origin.client_id,
                  scope: opt(origin.scope)
                })
            ),
            () =>
              Option.map(
                Option.fromNullable(json.tokens?.[PROVENANCE_KEY]),
                (provenance) =>
                  new SignInOrigin({
                    dialect: "codex",
                    issuer: provenance.issuer,
                    clientId: provenance.client_id,
                    scope: Option.none()
                  })
              )
          ),
          extra: extras(json, TOP_KEYS)
        })
    )
  )

const reveal = (secret: Option.Option<Redacted.Redacted<string>>): string | null =>
  Option.getOrNull(Option.map(secret, Redacted.value))

/**
 * The exact bytes codex writes: serde's pretty printer (2 spaces, no trailing newline), fields in codex's order
 * (`tokens.oauth_provenance` before `account_id`, as codex 0.169 writes it for a non-default issuer),
 * `OPENAI_API_KEY` always present, `tokens`/`last_refresh` only when set, then the fields codex does not know.
 */
export const encodeStoredAuth = (auth: StoredAuth): string => JSON.stringify(storedAuthJson(auth), null, 2)

/** The compact JSON codex stores as a keyring secret: the same fields in the same order, without white space. */
export const encodeStoredAuthCompact = (auth: StoredAuth): string => JSON.stringify(storedAuthJson(auth))

const storedAuthJson = (auth: StoredAuth): Record<string, unknown> => {
  const record: Record<string, unknown> = {}
  if (Option.isSome(auth.authMode)) record.auth_mode = auth.authMode.value
  record.OPENAI_API_KEY = reveal(auth.apiKey)
  const origin = Option.getOrUndefined(auth.origin)
  // codex records a Codex-dialect sign-in's issuer as tokens.oauth_provenance; other dialects use our own key.
  const codexOrigin = origin?.dialect === "codex" && Option.isSome(auth.tokens)
  if (Option.isSome(auth.tokens)) {
    const tokens = auth.tokens.value
    record.tokens = {
      id_token: reveal(tokens.idToken),
      access_token: Redacted.value(tokens.accessToken),
      refresh_token: reveal(tokens.refreshToken),
      ...(codexOrigin && origin ? { [PROVENANCE_KEY]: { issuer: origin.issuer, client_id: origin.clientId } } : {}),
      ...(Option.isSome(tokens.loginOwnerId) ? { [OWNER_KEY]: tokens.loginOwnerId.value } : {}),
      account_id: Option.getOrNull(tokens.accountId),
      ...(Option.isSome(tokens.expiresAt) ? { expires_at: DateTime.formatIso(tokens.expiresAt.value) } : {}),
      ...Object.fromEntries(tokens.extra)
    }
  }
  if (Option.isSome(auth.lastRefresh)) record.last_refresh = formatNanos(auth.lastRefresh.value, auth.lastRefreshNanos)
  if (origin && !codexOrigin) {
    record[ORIGIN_KEY] = {
      dialect: origin.dialect,
      issuer: origin.issuer,
      client_id: origin.clientId,
      ...(Option.isSome(origin.scope) ? { scope: origin.scope.value } : {})
    }
  }
  for (const [key, value] of auth.extra) record[key] = value
  return record
}
