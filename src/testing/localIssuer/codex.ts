import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { API_KEY_TOKEN, codexEndpoints, ID_TOKEN_TYPE, TOKEN_EXCHANGE_GRANT } from "../../domain/CodexWire.js"
import { s256Challenge } from "../../domain/Pkce.js"
import { approvalRoute } from "./approval.js"
import type { Authorization, BrowserDialectRoutes } from "./authorize.js"
import { normalizeUserCode } from "./codes.js"
import type { IssuerContext } from "./context.js"
import { codexError, json, oauthError, type Params, type Reply } from "./http.js"
import { type JwtSigner, randomToken } from "./jwt.js"

/** The Codex dialect's own paths (codex-protocol.md). */
export const CodexPaths = {
  userCode: "/api/accounts/deviceauth/usercode",
  poll: "/api/accounts/deviceauth/token",
  device: "/codex/device"
} as const

/**
 * The Codex dialect: user code, poll and approval page; its client at the sign-in page, whose codes (and the polls')
 * the shared authorization-code grant exchanges; token exchange.
 */
export const makeCodex = (
  context: IssuerContext,
  options: {
    readonly clientId: string
    readonly intervalSeconds: Option.Option<number>
    readonly signer: JwtSigner
    readonly authorization: Authorization
  }
): BrowserDialectRoutes => {
  const { codes, count } = context
  const { authorization, clientId, intervalSeconds } = options
  const endpoints = codexEndpoints(context.url)

  const issueCode = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("usercode")
      if (context.knobs().deviceCodeDisabled) {
        return codexError(404, "not_found", "Device code login is not enabled.")
      }
      if (params.client_id !== clientId) return codexError(400, "invalid_client", "Unknown client_id.")
      const record = yield* codes.issue({
        dialect: "codex",
        id: `deviceauth_${randomToken(24)}`,
        clientId,
        scope: []
      })
      return json(200, {
        device_auth_id: record.id,
        user_code: record.userCode,
        // a string, as the live server sends it
        ...Option.match(intervalSeconds, { onNone: () => ({}), onSome: (seconds) => ({ interval: String(seconds) }) }),
        expires_at: DateTime.formatIso(DateTime.unsafeMake(record.expiresAt))
      })
    })

  const pollCode = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("poll")
      const record = codes.find("codex", params.device_auth_id ?? "")
      if (record === undefined || normalizeUserCode(params.user_code ?? "") !== normalizeUserCode(record.userCode)) {
        return codexError(400, "invalid_request", "Unknown device_auth_id and user_code pair.")
      }
      switch (codes.statusOf(record, yield* Clock.currentTimeMillis)) {
        case "pending":
          if (context.takeSlowDown()) return codexError(403, "slow_down", "Polling too often; slow down.")
          return codexError(403, "deviceauth_authorization_pending", "The sign-in request is still pending.")
        case "approved": {
          record.decision = "redeemed"
          const codeVerifier = randomToken(64)
          const codeChallenge = s256Challenge(codeVerifier)
          const authorizationCode = yield* authorization.issue({
            grant: { dialect: "codex", clientId, scope: [] },
            challenge: codeChallenge,
            redirectUri: endpoints.redirectUri
          })
          return json(200, {
            authorization_code: authorizationCode,
            // the code stays bound to the true challenge, so only the client's own check can stop the exchange
            code_challenge: context.knobs().mismatchedPkce ? s256Challenge(randomToken(64)) : codeChallenge,
            code_verifier: codeVerifier
          })
        }
        case "redeemed":
          return codexError(400, "invalid_grant", "The device code was already used.")
        case "denied":
          return codexError(400, "access_denied", "The sign-in request was denied.")
        case "expired":
          return codexError(400, "expired_token", "The device code has expired.")
      }
    })

  // What codex's browser login does after its exchange, to get an API key (RFC 8693, as codex sends it).
  const tokenExchange = (params: Params): Reply => {
    count("tokenExchange")
    if (params.client_id !== undefined && params.client_id !== clientId) {
      return oauthError(400, "invalid_client", "client_id does not match.")
    }
    if (params.requested_token !== API_KEY_TOKEN) {
      return oauthError(400, "invalid_request", `requested_token must be ${API_KEY_TOKEN}.`)
    }
    if (params.subject_token_type !== ID_TOKEN_TYPE) {
      return oauthError(400, "invalid_request", `subject_token_type must be ${ID_TOKEN_TYPE}.`)
    }
    if (options.signer.verify(params.subject_token ?? "") === undefined) {
      return oauthError(400, "invalid_grant", "subject_token is not an id_token of this issuer.")
    }
    if (context.knobs().apiKeyExchange === "fail") {
      return oauthError(400, "invalid_grant", "No API key can be issued for this sign-in.")
    }
    return json(200, {
      access_token: `sk-local-${randomToken(24)}`,
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer"
    })
  }

  return {
    routes: [
      { path: CodexPaths.userCode, post: ({ params }) => issueCode(params) },
      { path: CodexPaths.poll, post: ({ params }) => pollCode(params) },
      approvalRoute(context, CodexPaths.device)
    ],
    grants: [[TOKEN_EXCHANGE_GRANT, (params) => Effect.sync(() => tokenExchange(params))]],
    browser: {
      dialect: "codex",
      clientId,
      scope: () => [],
      echoScope: true,
      responseIss: () => undefined
    }
  }
}
