import * as fc from "fast-check"
import { s256Challenge } from "../../src/domain/Pkce.js"
import { type EndpointShape, markerJwt, markerOpaque } from "./fuzzAnswers.js"

/** The endpoints the fuzz properties answer for, each with its 2xx fields, a valid body and the codes it reads. */

export const CODEX = "https://auth.fuzz.test"
export const OIDC = "https://id.fuzz.test"
export const OPENID = `${OIDC}/.well-known/openid-configuration`
export const OAUTH = `${OIDC}/.well-known/oauth-authorization-server`
export const DEVICE = `${OIDC}/oauth/device`
export const TOKEN = `${OIDC}/oauth/token`
export const REVOKE = `${OIDC}/oauth/revoke`

const counter = fc.nat(1_000_000)

/** The first value most of the time, else one of the others. */
const mostly = (usual: string, ...others: ReadonlyArray<string>) =>
  fc.oneof({ arbitrary: fc.constant(usual), weight: 4 }, { arbitrary: fc.constantFrom(...others), weight: 1 })

export const codexUserCode: EndpointShape = {
  fields: ["device_auth_id", "user_code", "usercode", "interval", "expires_at"],
  valid: fc.record(
    {
      device_auth_id: counter.map((n) => markerOpaque("dc", n)),
      user_code: fc.constantFrom("9F29-9M6JA", "ABCD-EFGHJ"),
      interval: fc.constantFrom("5", 5, "1", 0, "0"),
      expires_at: fc.constantFrom("2026-04-25T12:34:56Z", null, "not a date", "275760-09-13T00:00:00Z")
    },
    { requiredKeys: ["device_auth_id", "user_code"] }
  ),
  codes: ["not_found"]
}

export const codexPoll: EndpointShape = {
  fields: ["authorization_code", "code_challenge", "code_verifier"],
  valid: fc
    .tuple(counter, fc.string({ minLength: 43, maxLength: 64, unit: fc.constantFrom(..."abcXYZ019-._~") }))
    .map(([n, verifier]) => ({
      authorization_code: markerOpaque("dc", n),
      code_challenge: s256Challenge(verifier),
      code_verifier: verifier
    })),
  codes: ["deviceauth_authorization_pending", "slow_down", "access_denied", "expired_token", "deviceauth_expired"]
}

export const tokensShape = (required: boolean): EndpointShape => ({
  fields: ["id_token", "access_token", "refresh_token", "expires_in", "token_type", "scope"],
  valid: fc.record(
    {
      id_token: counter.map((n) => markerJwt(n)),
      access_token: counter.map((n) => markerJwt(n)),
      refresh_token: counter.map((n) => markerOpaque("rt", n)),
      expires_in: fc.constantFrom(3600, "3600", 0, -5, 1e13, 1e308),
      token_type: fc.constant("Bearer")
    },
    required ? { requiredKeys: ["id_token", "access_token", "refresh_token"] } : { requiredKeys: [] }
  ),
  codes: ["invalid_grant", "refresh_token_reused", "refresh_token_expired", "refresh_token_invalidated"]
})

export const revokeShape: EndpointShape = {
  fields: ["status", "revoked"],
  valid: fc.constant({}),
  codes: ["unsupported_token_type", "invalid_request"]
}

export const discoveryShape: EndpointShape = {
  fields: ["issuer", "device_authorization_endpoint", "token_endpoint", "revocation_endpoint"],
  valid: fc.record(
    {
      issuer: mostly(OIDC, `${OIDC}/`, "https://other.fuzz.test"),
      device_authorization_endpoint: mostly(
        DEVICE,
        "https://evil.fuzz.test/device",
        "javascript:alert(1)",
        "/relative",
        ""
      ),
      token_endpoint: mostly(TOKEN, "http://169.254.169.254/latest", "not a url"),
      revocation_endpoint: mostly(REVOKE, "")
    },
    { requiredKeys: ["issuer", "token_endpoint"] }
  ),
  codes: ["not_found"]
}

export const oidcDevice: EndpointShape = {
  fields: [
    "device_code",
    "user_code",
    "verification_uri",
    "verification_url",
    "verification_uri_complete",
    "expires_in",
    "interval"
  ],
  valid: fc.record(
    {
      device_code: counter.map((n) => markerOpaque("dc", n)),
      user_code: fc.constantFrom("WDJB-MJHT", "BCDF"),
      verification_uri: fc.constant(`${OIDC}/device`),
      verification_uri_complete: fc.constant(`${OIDC}/device?user_code=WDJB-MJHT`),
      expires_in: fc.constantFrom(600, "600", -1, 1e308),
      interval: fc.constantFrom(5, "5", 0, "1e400")
    },
    { requiredKeys: ["device_code", "user_code", "verification_uri"] }
  ),
  codes: ["invalid_client", "unauthorized_client", "invalid_scope"]
}

export const oidcToken: EndpointShape = {
  ...tokensShape(false),
  valid: fc.record(
    {
      access_token: counter.map((n) => markerJwt(n)),
      id_token: counter.map((n) => markerJwt(n)),
      refresh_token: counter.map((n) => markerOpaque("rt", n)),
      expires_in: fc.constantFrom(3600, "3600", -1, 1e13),
      token_type: fc.constant("Bearer")
    },
    { requiredKeys: ["access_token"] }
  ),
  codes: ["authorization_pending", "slow_down", "access_denied", "expired_token", "invalid_grant"]
}
