import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** Tokens an issuer handed out. Every token is `Redacted` from the moment it is decoded. */
export class TokenSet extends Data.Class<{
  readonly accessToken: Redacted.Redacted<string>
  readonly idToken: Option.Option<Redacted.Redacted<string>>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  /** `expires_in` when the server sent one (RFC 6749 §5.1). */
  readonly expiresIn: Option.Option<Duration.Duration>
}> {}

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
