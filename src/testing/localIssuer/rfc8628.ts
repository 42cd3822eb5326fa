import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { approvalRoute } from "./approval.js"
import { AUTHORIZE_PATH, type BrowserDialectRoutes } from "./authorize.js"
import type { IssuerContext } from "./context.js"
import { codexError, json, oauthError, type Params, type Reply } from "./http.js"
import { randomToken } from "./jwt.js"
import { OAuthPaths } from "./oauth.js"
import type { LocalIssuerDiscovery } from "./types.js"

/** The standard dialect's paths: discovery (RFC 8414, OpenID Discovery), RFC 8628 and its verification page. */
export const Rfc8628Paths = {
  openidConfiguration: "/.well-known/openid-configuration",
  authorizationServer: "/.well-known/oauth-authorization-server",
  deviceAuthorization: "/oauth/device/code",
  device: "/device"
} as const

/** RFC 8628 §3.4 grant type. */
export const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

/** The `issuer` that the `wrong-issuer` discovery knob advertises, and the `iss` of the `wrong` authorizeIss knob. */
export const WRONG_ISSUER = "https://wrong-issuer.invalid"

const SCOPES = ["openid", "profile", "email", "offline_access"] as const

/** The scopes granted: the supported ones asked for (RFC 6749 §3.3 lets us drop the rest); all of them by default. */
const grantedScope = (requested: string | undefined): ReadonlyArray<string> => {
  if (requested === undefined || requested.trim() === "") return SCOPES
  const asked = new Set(requested.trim().split(/\s+/))
  return SCOPES.filter((scope) => asked.has(scope))
}

/**
 * The RFC 8628 dialect: discovery, device authorization and approval page; the device_code grant; its client at the
 * sign-in page, whose redirects carry RFC 9207's `iss`.
 */
export const makeRfc8628 = (
  context: IssuerContext,
  options: {
    readonly clientId: string
    readonly intervalSeconds: Option.Option<number>
    readonly expiresIn: number
  }
): BrowserDialectRoutes => {
  const { codes, count, tokens, url } = context
  const { clientId, intervalSeconds } = options
  const unknownClient = (id: string | undefined) =>
    oauthError(400, "invalid_client", `Unknown client ${id === undefined ? "(none)" : JSON.stringify(id)}.`)

  const discovery = (): Reply => {
    count("discovery")
    const mode: LocalIssuerDiscovery = context.knobs().discovery
    if (mode === "missing") {
      count("notFound")
      return codexError(404, "not_found", "No discovery document.")
    }
    const withDevice = mode !== "no-device-endpoint"
    const withAuthorize = mode !== "no-authorize-endpoint"
    return json(200, {
      issuer: mode === "wrong-issuer" ? WRONG_ISSUER : url,
      ...(withAuthorize ? { authorization_endpoint: `${url}${AUTHORIZE_PATH}` } : {}),
      ...(withDevice ? { device_authorization_endpoint: `${url}${Rfc8628Paths.deviceAuthorization}` } : {}),
      token_endpoint: `${url}${OAuthPaths.token}`,
      revocation_endpoint: `${url}${OAuthPaths.revoke}`,
      grant_types_supported: [
        ...(withDevice ? [DEVICE_CODE_GRANT] : []),
        "refresh_token",
        ...(withAuthorize ? ["authorization_code"] : []),
        "urn:ietf:params:oauth:grant-type:token-exchange"
      ],
      response_types_supported: ["code"],
      scopes_supported: SCOPES,
      token_endpoint_auth_methods_supported: ["none"],
      revocation_endpoint_auth_methods_supported: ["none"],
      code_challenge_methods_supported: ["S256"],
      subject_types_supported: ["public"],
      id_token_signing_alg_values_supported: ["HS256"],
      claims_supported: ["iss", "aud", "sub", "email", "email_verified", "name", "iat", "exp", "nonce"],
      ...(withAuthorize ? { authorization_response_iss_parameter_supported: true } : {})
    })
  }

  // RFC 8628 §3.1–3.2.
  const deviceAuthorization = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("deviceAuthorization")
      if (context.knobs().deviceCodeDisabled) {
        return oauthError(404, "not_found", "Device authorization is not enabled.")
      }
      if (params.client_id !== clientId) return unknownClient(params.client_id)
      const record = yield* codes.issue({
        dialect: "rfc8628",
        id: randomToken(32),
        clientId,
        scope: grantedScope(params.scope)
      })
      const verificationUri = `${url}${Rfc8628Paths.device}`
      return json(200, {
        device_code: record.id,
        user_code: record.userCode,
        verification_uri: verificationUri,
        verification_uri_complete: `${verificationUri}?user_code=${encodeURIComponent(record.userCode)}`,
        expires_in: options.expiresIn,
        ...Option.match(intervalSeconds, { onNone: () => ({}), onSome: (interval) => ({ interval }) })
      })
    })

  // RFC 8628 §3.4–3.5.
  const pollDeviceCode = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("devicePoll")
      if (params.client_id === undefined) return oauthError(400, "invalid_request", "client_id is required.")
      if (params.client_id !== clientId) return unknownClient(params.client_id)
      if (params.device_code === undefined) return oauthError(400, "invalid_request", "device_code is required.")
      const record = codes.find("rfc8628", params.device_code)
      if (record === undefined) return oauthError(400, "invalid_grant", "Unknown device code.")
      if (record.clientId !== params.client_id) {
        return oauthError(400, "invalid_client", "The device code was issued to another client.")
      }
      switch (codes.statusOf(record, yield* Clock.currentTimeMillis)) {
        case "pending":
          if (context.takeSlowDown()) return oauthError(400, "slow_down", "Polling too often; slow down.")
          return oauthError(400, "authorization_pending", "The user has not yet approved the request.")
        case "approved":
          record.decision = "redeemed"
          return json(200, yield* tokens.mint({ dialect: "rfc8628", clientId, scope: record.scope }))
        case "redeemed":
          return oauthError(400, "invalid_grant", "The device code was already used.")
        case "denied":
          return oauthError(400, "access_denied", "The user denied the request.")
        case "expired":
          return oauthError(400, "expired_token", "The device code has expired.")
      }
    })

  return {
    routes: [
      { path: Rfc8628Paths.openidConfiguration, get: () => Effect.sync(discovery) },
      { path: Rfc8628Paths.authorizationServer, get: () => Effect.sync(discovery) },
      {
        path: Rfc8628Paths.deviceAuthorization,
        notAllowed: "oauth",
        badBody: "oauth",
        post: ({ params }) => deviceAuthorization(params)
      },
      approvalRoute(context, Rfc8628Paths.device)
    ],
    grants: [[DEVICE_CODE_GRANT, pollDeviceCode]],
    browser: {
      dialect: "rfc8628",
      clientId,
      scope: grantedScope,
      echoScope: false,
      responseIss: () => {
        switch (context.knobs().authorizeIss) {
          case "normal":
            return url
          case "wrong":
            return WRONG_ISSUER
          case "missing":
            return undefined
        }
      }
    }
  }
}
