import * as Schema from "effect/Schema"
import { WireToken } from "./TokenSet.js"

// The RFC 8628 dialect's wire messages, as the servers send them; CodexWire.ts holds the Codex dialect's.

/** The fields of OpenID Connect Discovery 1.0 §3 / RFC 8414 §2 a device login uses. */
export const DiscoveryDocument = Schema.Struct({
  issuer: Schema.String,
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
