import * as DateTime from "effect/DateTime"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { Dialect } from "./Dialect.js"

// auth.json on the wire, as codex writes it (codex-protocol.md §7); StoredAuth.ts maps it to the domain record.

/** The top-level key under which devicecode records the origin of a sign-in codex has no field for. */
export const ORIGIN_KEY = "devicecode"

/** The `tokens` key under which codex 0.169 records a non-default issuer and client. */
export const PROVENANCE_KEY = "oauth_provenance"

/** The nanoseconds within the millisecond of an RFC 3339 instant written with more than three fractional digits. */
export const subMillisecondNanos = (text: string): number => {
  const fraction = /\.(\d+)(?:Z|[+-]\d\d:?\d\d)$/i.exec(text)?.[1]
  return fraction === undefined || fraction.length <= 3 ? 0 : Number(fraction.slice(3, 9).padEnd(6, "0"))
}

/**
 * An instant as codex writes `last_refresh`: RFC 3339 in UTC with chrono's `AutoSi` fraction, the fewest of 9, 6 or 3
 * digits that hold every non-zero one (none for a whole second). Nine digits nearly always; a nanosecond count that
 * ends in 000 (one write in a thousand) is written with six, as codex writes it.
 */
export const formatNanos = (at: DateTime.Utc, nanos: number = 0): string => {
  const iso = DateTime.formatIso(at)
  const fraction = `${iso.slice(-4, -1)}${String(Math.trunc(nanos)).padStart(6, "0")}`.replace(/(000)+$/, "")
  return `${iso.slice(0, -5)}${fraction === "" ? "" : `.${fraction}`}Z`
}

/** `last_refresh`: the instant and the nanoseconds within its millisecond, which a DateTime cannot hold. */
export const LastRefreshJson = Schema.transformOrFail(
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

const NullableString = Schema.optional(Schema.NullOr(Schema.String))
const NullableSecret = Schema.optional(Schema.NullOr(Schema.Redacted(Schema.String)))
const Rest = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/** The `tokens` object, keys in codex's order, then any fields codex added that devicecode does not know. */
export const TokensJson = Schema.Struct(
  {
    id_token: NullableSecret,
    access_token: Schema.Redacted(Schema.String),
    refresh_token: NullableSecret,
    [PROVENANCE_KEY]: Schema.optional(Schema.Struct({ issuer: Schema.String, client_id: Schema.String })),
    login_owner_id: NullableString,
    account_id: NullableString,
    expires_at: Schema.optional(Schema.DateTimeUtc)
  },
  Rest
)

/** devicecode's own record of a sign-in's dialect, issuer, client and scope. */
export const OriginJson = Schema.Struct({
  dialect: Dialect,
  issuer: Schema.String,
  client_id: Schema.String,
  scope: Schema.optional(Schema.String)
})

/** auth.json, keys in codex's order (`OPENAI_API_KEY` always written), then the fields devicecode does not know. */
export const AuthJson = Schema.Struct(
  {
    auth_mode: NullableString,
    OPENAI_API_KEY: NullableSecret,
    tokens: Schema.optional(Schema.NullOr(TokensJson)),
    last_refresh: Schema.optional(Schema.NullOr(LastRefreshJson)),
    [ORIGIN_KEY]: Schema.optional(OriginJson)
  },
  Rest
)

/** The names of {@link AuthJson}'s own fields, at the top level and in `tokens`: everything else is kept as extra. */
export const knownKeys = {
  top: new Set(Object.keys(AuthJson.fields)),
  tokens: new Set(Object.keys(TokensJson.fields))
} as const
