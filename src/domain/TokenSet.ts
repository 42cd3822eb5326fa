import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

const Secret = Schema.RedactedFromSelf(Schema.String)

/** Tokens an issuer handed out. Every token is `Redacted` from the moment it is decoded. */
export class TokenSet extends Schema.Class<TokenSet>("TokenSet")({
  accessToken: Secret,
  idToken: Schema.OptionFromSelf(Secret),
  refreshToken: Schema.OptionFromSelf(Secret),
  /** `expires_in` when the server sent one (RFC 6749 §5.1). */
  expiresIn: Schema.OptionFromSelf(Schema.DurationFromSelf)
}) {}

/** Tokens a refresh returned: any may be missing, and only those present replace the stored ones (RFC 6749 §6). */
export const TokenRefresh = Schema.Struct({
  accessToken: Schema.OptionFromSelf(Secret),
  idToken: Schema.OptionFromSelf(Secret),
  refreshToken: Schema.OptionFromSelf(Secret),
  /** `expires_in` of the refresh answer, when the server sent one. */
  expiresIn: Schema.OptionFromSelf(Schema.DurationFromSelf)
})

/** Tokens a refresh returned: any may be missing, and only those present replace the stored ones (RFC 6749 §6). */
export interface TokenRefresh extends Schema.Schema.Type<typeof TokenRefresh> {}

/** Whether a token could go into a header as it is: not empty, no whitespace, no control characters. */
export const isUsableToken = (s: string): boolean => s !== "" && !/[\s\p{Cc}]/u.test(s)

/**
 * A token or code as a server sends it (access, refresh or id token, device code, authorization code, PKCE verifier),
 * checked on the way in: a blank or spaced one would be saved or sent back and fail at every use. The refinement's
 * message names no value.
 */
export const WireToken = Schema.String.pipe(
  Schema.filter(isUsableToken, { message: () => "an empty token, or one with whitespace or control characters" })
)

/** The longest lifetime (`expires_in`) taken from a server: ten years; a longer one is read as none given. */
export const maxLifetime = Duration.days(3650)

/** A lifetime in seconds as a Duration, when it is a finite number from 0 to {@link maxLifetime}. */
export const lifetime = (seconds: number): Option.Option<Duration.Duration> =>
  Number.isFinite(seconds) && seconds >= 0 && seconds <= Duration.toSeconds(maxLifetime)
    ? Option.some(Duration.seconds(seconds))
    : Option.none()

/**
 * An optional `expires_in` field read by `read` into a lifetime, none when absent or unusable; written back as a
 * number of seconds. Each dialect passes its own rule for what it accepts.
 */
export const expiresInField = (read: (raw: unknown) => Option.Option<Duration.Duration>) =>
  Schema.optionalToRequired(Schema.Unknown, Schema.OptionFromSelf(Schema.DurationFromSelf), {
    decode: Option.flatMap(read),
    encode: Option.map(Duration.toSeconds)
  })

/** A token a server may leave out, Redacted from the moment it is read. */
export const secret = (token: string | undefined): Option.Option<Redacted.Redacted<string>> =>
  Option.map(Option.fromNullable(token), Redacted.make)

/** `{ [key]: token }` when the token is there, else nothing: for encoding a wire body's optional tokens. */
export const optionalToken = <K extends string>(key: K, token: Option.Option<Redacted.Redacted<string>>) =>
  Option.isSome(token) ? ({ [key]: Redacted.value(token.value) } as { readonly [k in K]: string }) : {}
