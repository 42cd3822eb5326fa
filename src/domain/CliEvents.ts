/**
 * What the `devicecode` CLI prints with `--json`: one JSON object a line (NDJSON) on stdout. These schemas are the
 * wire format: the CLI encodes with them, and a program that drives the CLI can decode each line with them.
 */
import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/** A number of seconds on the wire, a `Duration` in code. */
export const DurationFromSeconds: Schema.Schema<Duration.Duration, number> = Schema.transform(
  Schema.NonNegative,
  Schema.DurationFromSelf,
  {
    strict: true,
    decode: (seconds) => Duration.seconds(seconds),
    encode: (duration) => Duration.toSeconds(duration)
  }
)

const nullable = Schema.OptionFromNullOr(Schema.String)
const snake = <S extends Schema.Schema.All>(schema: S, key: string) =>
  Schema.propertySignature(schema).pipe(Schema.fromKey(key))

/** `login`: a code was issued; `expires_at` is when the login stops waiting for it. */
export class CodeEvent extends Schema.Class<CodeEvent>("CodeEvent")({
  event: Schema.tag("code"),
  verificationUri: snake(Schema.String, "verification_uri"),
  verificationUriComplete: snake(nullable, "verification_uri_complete"),
  userCode: snake(Schema.String, "user_code"),
  expiresAt: snake(Schema.DateTimeUtc, "expires_at"),
  interval: DurationFromSeconds
}) {}

/** `login --browser`: the sign-in page to open; the browser comes back to the callback server on 127.0.0.1:`port`. */
export class BrowserEvent extends Schema.Class<BrowserEvent>("BrowserEvent")({
  event: Schema.tag("browser"),
  url: Schema.String,
  port: Schema.Int
}) {}

/** `login`: a poll came back pending; the next one goes out in `next_poll_in` seconds. */
export class WaitingEvent extends Schema.Class<WaitingEvent>("WaitingEvent")({
  event: Schema.tag("waiting"),
  attempt: Schema.Int,
  nextPollIn: snake(DurationFromSeconds, "next_poll_in")
}) {}

/** `login`: the server asked for slower polling; `interval` seconds from now on. */
export class SlowDownEvent extends Schema.Class<SlowDownEvent>("SlowDownEvent")({
  event: Schema.tag("slow_down"),
  interval: DurationFromSeconds
}) {}

/** `login`: a poll hit a transient failure and is retried after `delay` seconds. */
export class RetryingEvent extends Schema.Class<RetryingEvent>("RetryingEvent")({
  event: Schema.tag("retrying"),
  message: Schema.String,
  delay: DurationFromSeconds
}) {}

/** `login`: the code was approved; tokens are being fetched and checked. */
export class ApprovedEvent extends Schema.Class<ApprovedEvent>("ApprovedEvent")({
  event: Schema.tag("approved")
}) {}

/** `login`: a device login is stored. Who signed in, never a token. */
export class LoggedInEvent extends Schema.Class<LoggedInEvent>("LoggedInEvent")({
  event: Schema.tag("logged_in"),
  method: Schema.Literal("chatgpt", "oidc"),
  email: nullable,
  plan: nullable,
  accountId: snake(nullable, "account_id"),
  profile: Schema.String
}) {}

/** `login --with-api-key`: the key is stored. */
export class ApiKeyLoggedInEvent extends Schema.Class<ApiKeyLoggedInEvent>("ApiKeyLoggedInEvent")({
  event: Schema.tag("logged_in"),
  method: Schema.Literal("apikey"),
  profile: Schema.String
}) {}

/** `logout`: whether a sign-in was removed and whether its refresh token was revoked at the issuer. */
export class LoggedOutEvent extends Schema.Class<LoggedOutEvent>("LoggedOutEvent")({
  event: Schema.tag("logged_out"),
  profile: Schema.String,
  removed: Schema.Boolean,
  revoked: Schema.Boolean
}) {}

/**
 * Any command failed: `code` is the error's tag (`DeviceAuthError`, `StoreError`, `UsageError`, `Cancelled`, …) and
 * `reason` its reason when it has one (`Denied`, `Expired`, …). The exit code is the same as without `--json`.
 */
export class ErrorEvent extends Schema.Class<ErrorEvent>("ErrorEvent")({
  event: Schema.tag("error"),
  code: Schema.String,
  reason: Schema.optionalWith(Schema.String, { exact: true, as: "Option" }),
  message: Schema.String
}) {}

/** Every line `login --json` can print. */
export const LoginOutput = Schema.Union(
  CodeEvent,
  BrowserEvent,
  WaitingEvent,
  SlowDownEvent,
  RetryingEvent,
  ApprovedEvent,
  LoggedInEvent,
  ApiKeyLoggedInEvent,
  ErrorEvent
)

/** A line of {@link LoginOutput}. */
export type LoginOutput = typeof LoginOutput.Type

/** Every event line of any command (`login`, `logout`, and the error of any command). */
export const CliEvent = Schema.Union(LoginOutput, LoggedOutEvent)

/** An event line of {@link CliEvent}. */
export type CliEvent = typeof CliEvent.Type

/** `token --json`: the access token (or API key), when it expires if known, and the profile. */
export class TokenOutput extends Schema.Class<TokenOutput>("TokenOutput")({
  accessToken: snake(Schema.Redacted(Schema.String), "access_token"),
  expiresAt: snake(Schema.OptionFromNullOr(Schema.DateTimeUtc), "expires_at"),
  profile: Schema.String
}) {}

const optional = <S extends Schema.Schema.Any>(schema: S) => Schema.optionalWith(schema, { exact: true })
const optionalNullable = optional(Schema.NullOr(Schema.String))

/** `status --json`: one profile's sign-in, without a secret (`status --all --json` prints an array of them). */
export const StatusReport = Schema.Struct({
  profile: Schema.String,
  logged_in: Schema.Boolean,
  method: optional(Schema.Literal("chatgpt", "apikey", "oidc")),
  email: optionalNullable,
  name: optionalNullable,
  subject: optionalNullable,
  plan: optionalNullable,
  account_id: optionalNullable,
  /** ISO 8601. */
  access_token_expires_at: optionalNullable,
  /** Masked as codex masks it: the first 8 and last 5 characters. */
  api_key: optional(Schema.String),
  issuer: optional(Schema.String),
  store: Schema.String,
  /** Why the stored sign-in could not be read (only in `status --all`). */
  error: optional(Schema.String)
})

/** A {@link StatusReport}. */
export type StatusReport = typeof StatusReport.Type
