import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { DeviceCode, parseInterval } from "./DeviceCode.js"
import { nonEmpty } from "./Json.js"
import { expiresInField, lifetime, optionalToken, secret, TokenRefresh, TokenSet, WireToken } from "./TokenSet.js"

// The RFC 8628 dialect's wire messages, as the servers send them; CodexWire.ts holds the Codex dialect's.

/** The fields of OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 a device or browser login uses. */
export const DiscoveryDocument = Schema.Struct({
  issuer: Schema.String,
  authorization_endpoint: Schema.optional(Schema.String),
  /** RFC 9207: the provider adds `iss` to its authorization responses, which the client then checks. */
  authorization_response_iss_parameter_supported: Schema.optional(Schema.Boolean),
  device_authorization_endpoint: Schema.optional(Schema.String),
  token_endpoint: Schema.String,
  revocation_endpoint: Schema.optional(Schema.String)
})

/** RFC 8628 §3.2; Google names the verification URI `verification_url`, some servers send numbers as strings. */
export const DeviceAuthorizationResponse = Schema.Struct({
  device_code: WireToken,
  user_code: Schema.String,
  verification_uri: Schema.optional(Schema.String),
  verification_url: Schema.optional(Schema.String),
  verification_uri_complete: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Unknown),
  interval: Schema.optional(Schema.Unknown)
})

/** RFC 6749 §5.1, with the OpenID Connect id_token; every token sent must be usable as it is (null is absent). */
export const TokenResponse = Schema.Struct({
  access_token: WireToken,
  token_type: Schema.optional(Schema.String),
  expires_in: Schema.optional(Schema.Unknown),
  refresh_token: Schema.optionalWith(WireToken, { nullable: true }),
  id_token: Schema.optionalWith(WireToken, { nullable: true }),
  scope: Schema.optional(Schema.String)
})

/** RFC 6749 §6: a refresh may leave out any token, and only those present replace the stored ones. */
export const RefreshResponse = Schema.Struct({
  access_token: Schema.optionalWith(WireToken, { nullable: true }),
  refresh_token: Schema.optionalWith(WireToken, { nullable: true }),
  id_token: Schema.optionalWith(WireToken, { nullable: true }),
  expires_in: Schema.optional(Schema.Unknown)
})

/** `expires_in` as providers send it: a number or a numeric string (Azure AD v1) of seconds, up to ten years. */
export const OidcExpiresIn = expiresInField((raw) =>
  lifetime(typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN)
)

/**
 * RFC 8628 §3.2 body ↔ {@link DeviceCode}, for a code issued at `now`: a non-blank user code and verification URI
 * (`verification_uri`, else Google's `verification_url`), the interval by {@link parseInterval}, and the expiry `now` +
 * `expires_in` read by {@link OidcExpiresIn}.
 */
export const OidcDeviceCodeFromWire = (now: DateTime.Utc) =>
  Schema.transformOrFail(
    Schema.Struct({ ...DeviceAuthorizationResponse.fields, expires_in: OidcExpiresIn }),
    DeviceCode,
    {
      strict: true,
      decode: (wire, _, ast) => {
        const userCode = nonEmpty(wire.user_code)
        if (userCode === undefined) return ParseResult.fail(new ParseResult.Type(ast, userCode, "missing user_code"))
        const verificationUri = nonEmpty(wire.verification_uri) ?? nonEmpty(wire.verification_url)
        if (verificationUri === undefined) {
          return ParseResult.fail(new ParseResult.Type(ast, verificationUri, "missing verification_uri"))
        }
        return ParseResult.succeed({
          deviceCode: Redacted.make(wire.device_code),
          userCode,
          verificationUri,
          verificationUriComplete: Option.fromNullable(nonEmpty(wire.verification_uri_complete)),
          interval: parseInterval(wire.interval),
          expiresAt: Option.map(wire.expires_in, (expiresIn) => DateTime.addDuration(now, expiresIn))
        })
      },
      encode: (code) =>
        ParseResult.succeed({
          device_code: Redacted.value(code.deviceCode),
          user_code: code.userCode,
          verification_uri: code.verificationUri,
          ...(Option.isSome(code.verificationUriComplete)
            ? { verification_uri_complete: code.verificationUriComplete.value }
            : {}),
          expires_in: Option.map(code.expiresAt, (at) =>
            Duration.millis(Math.max(0, DateTime.toEpochMillis(at) - DateTime.toEpochMillis(now)))
          ),
          interval: Duration.toSeconds(code.interval)
        })
    }
  )

/** RFC 6749 §5.1 body ↔ {@link TokenSet}: each token sent, Redacted, and `expires_in` by {@link OidcExpiresIn}. */
export const OidcTokenSetFromWire = Schema.transform(
  Schema.Struct({ ...TokenResponse.fields, expires_in: OidcExpiresIn }),
  TokenSet,
  {
    strict: true,
    decode: (wire) => ({
      accessToken: Redacted.make(wire.access_token),
      idToken: secret(wire.id_token),
      refreshToken: secret(wire.refresh_token),
      expiresIn: wire.expires_in
    }),
    encode: (tokens) => ({
      access_token: Redacted.value(tokens.accessToken),
      // every token devicecode's kits hand out is a bearer token (RFC 6750)
      token_type: "Bearer",
      expires_in: tokens.expiresIn,
      ...optionalToken("refresh_token", tokens.refreshToken),
      ...optionalToken("id_token", tokens.idToken)
    })
  }
)

/** RFC 6749 §6 body ↔ {@link TokenRefresh}: the tokens sent, each Redacted, and `expires_in` by {@link OidcExpiresIn}. */
export const OidcRefreshFromWire = Schema.transform(
  Schema.Struct({ ...RefreshResponse.fields, expires_in: OidcExpiresIn }),
  TokenRefresh,
  {
    strict: true,
    decode: (wire) => ({
      accessToken: secret(wire.access_token),
      refreshToken: secret(wire.refresh_token),
      idToken: secret(wire.id_token),
      expiresIn: wire.expires_in
    }),
    encode: (tokens) => ({
      ...optionalToken("access_token", tokens.accessToken),
      ...optionalToken("refresh_token", tokens.refreshToken),
      ...optionalToken("id_token", tokens.idToken),
      expires_in: tokens.expiresIn
    })
  }
)
