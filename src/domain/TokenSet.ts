import { Data, Duration, Option, Redacted } from "effect"

/** Tokens an issuer handed out. Every token is `Redacted` from the moment it is decoded. */
export class TokenSet extends Data.Class<{
  readonly accessToken: Redacted.Redacted<string>
  readonly idToken: Option.Option<Redacted.Redacted<string>>
  readonly refreshToken: Option.Option<Redacted.Redacted<string>>
  /** `expires_in` when the server sent one (RFC 6749 §5.1). */
  readonly expiresIn: Option.Option<Duration.Duration>
}> {}
