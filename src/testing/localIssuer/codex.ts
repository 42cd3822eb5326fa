import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codexEndpoints } from "../../domain/CodexWire.js"
import { s256Challenge } from "../../domain/Pkce.js"
import { approvalRoute } from "./approval.js"
import { normalizeUserCode } from "./codes.js"
import type { IssuerContext } from "./context.js"
import { codexError, html, json, oauthError, type Params, type Reply } from "./http.js"
import { type JwtSigner, randomToken } from "./jwt.js"
import { authorizePage, resultPage } from "./page.js"
import type { DialectRoutes, IssuerRequest } from "./route.js"

/** The Codex dialect's own paths (codex-protocol.md). */
export const CodexPaths = {
  userCode: "/api/accounts/deviceauth/usercode",
  poll: "/api/accounts/deviceauth/token",
  device: "/codex/device"
} as const

/** RFC 8693 token exchange, which codex's browser login uses to get an API key. */
export const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"

const AUTH_CODE_TTL_MS = 10 * 60 * 1000

/** Where the browser login's sign-in page is (codex's `/oauth/authorize`). */
export const AUTHORIZE_PATH = "/oauth/authorize"

interface AuthCodeRecord {
  readonly challenge: string
  /** The redirect_uri the code was issued for: the exchange must name it again (RFC 6749 §4.1.3). */
  readonly redirectUri: string
  readonly expiresAt: number
  used: boolean
}

/** The Codex dialect: user code, poll and approval page; authorization-code exchange and token exchange. */
export const makeCodex = (
  context: IssuerContext,
  options: {
    readonly clientId: string
    readonly intervalSeconds: Option.Option<number>
    readonly signer: JwtSigner
  }
): DialectRoutes => {
  const { codes, count, tokens } = context
  const { clientId, intervalSeconds } = options
  const endpoints = codexEndpoints(context.url)
  const authCodes = new Map<string, AuthCodeRecord>()
  const nowMillis = Clock.currentTimeMillis

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
      const now = yield* nowMillis
      switch (codes.statusOf(record, now)) {
        case "pending":
          if (context.takeSlowDown()) return codexError(403, "slow_down", "Polling too often; slow down.")
          return codexError(403, "deviceauth_authorization_pending", "The sign-in request is still pending.")
        case "approved": {
          record.decision = "redeemed"
          const authorizationCode = `ac_${randomToken(32)}`
          const codeVerifier = randomToken(64)
          const codeChallenge = s256Challenge(codeVerifier)
          authCodes.set(authorizationCode, {
            challenge: codeChallenge,
            redirectUri: endpoints.redirectUri,
            expiresAt: now + AUTH_CODE_TTL_MS,
            used: false
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

  const exchangeCode = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("exchange")
      const record = authCodes.get(params.code ?? "")
      const now = yield* nowMillis
      if (record === undefined) return oauthError(400, "invalid_grant", "Unknown authorization code.")
      if (record.used) return oauthError(400, "invalid_grant", "The authorization code was already used.")
      if (now >= record.expiresAt) return oauthError(400, "invalid_grant", "The authorization code has expired.")
      if (params.redirect_uri !== record.redirectUri) {
        return oauthError(400, "invalid_grant", `redirect_uri must be ${record.redirectUri}.`)
      }
      if (params.client_id !== clientId) return oauthError(400, "invalid_grant", "client_id does not match.")
      if (params.code_verifier === undefined || s256Challenge(params.code_verifier) !== record.challenge) {
        return oauthError(400, "invalid_grant", "code_verifier does not match the code challenge.")
      }
      record.used = true
      return json(200, yield* tokens.mint({ dialect: "codex", clientId, scope: [] }))
    })

  // What codex's browser login does after its exchange, to get an API key.
  const tokenExchange = (params: Params): Reply => {
    count("tokenExchange")
    if (params.client_id !== undefined && params.client_id !== clientId) {
      return oauthError(400, "invalid_client", "client_id does not match.")
    }
    if (options.signer.verify(params.subject_token ?? "") === undefined) {
      return oauthError(400, "invalid_grant", "subject_token is not an id_token of this issuer.")
    }
    return json(200, {
      access_token: `sk-local-${randomToken(24)}`,
      issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
      token_type: "Bearer"
    })
  }

  // The browser login's authorization request (codex's parameters): checked before anything is shown or redirected,
  // so a bad redirect_uri is never followed.
  const authorizeRequest = (get: (name: string) => string | undefined) => {
    const redirectUri = get("redirect_uri") ?? ""
    const redirect = URL.canParse(redirectUri) ? new URL(redirectUri) : undefined
    const loopback =
      redirect !== undefined &&
      redirect.protocol === "http:" &&
      (redirect.hostname === "127.0.0.1" || redirect.hostname === "localhost" || redirect.hostname === "[::1]")
    if (!loopback) return { error: "redirect_uri must be an http URL on loopback." } as const
    if (get("client_id") !== clientId) return { error: "Unknown client_id." } as const
    if (get("response_type") !== "code") return { error: "response_type must be code." } as const
    const challenge = get("code_challenge") ?? ""
    if (get("code_challenge_method") !== "S256" || challenge === "") {
      return { error: "A code_challenge with code_challenge_method S256 is required." } as const
    }
    return { redirectUri, challenge, state: get("state") ?? "" } as const
  }

  const backTo = (redirectUri: string, params: Record<string, string>): Reply => {
    const url = new URL(redirectUri)
    for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value)
    return { status: 302, body: "", headers: { location: url.toString(), "cache-control": "no-store" } }
  }

  const showAuthorize = (request: IssuerRequest): Effect.Effect<Reply> =>
    Effect.sync(() => {
      count("authorizePage")
      const checked = authorizeRequest((name) => request.query.get(name) ?? undefined)
      if ("error" in checked) return html(400, resultPage("Bad sign-in request", checked.error))
      return html(
        200,
        authorizePage({ action: AUTHORIZE_PATH, redirectUri: checked.redirectUri, params: [...request.query] })
      )
    })

  const decideAuthorize = ({ params }: IssuerRequest): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("authorizePage")
      const checked = authorizeRequest((name) => params[name])
      if ("error" in checked) return html(400, resultPage("Bad sign-in request", checked.error))
      const state = checked.state === "" ? {} : { state: checked.state }
      if (params.action !== "approve") {
        return backTo(checked.redirectUri, {
          error: "access_denied",
          error_description: "The sign-in was denied.",
          ...state
        })
      }
      const code = `ac_${randomToken(32)}`
      authCodes.set(code, {
        challenge: checked.challenge,
        redirectUri: checked.redirectUri,
        expiresAt: (yield* nowMillis) + AUTH_CODE_TTL_MS,
        used: false
      })
      return backTo(checked.redirectUri, { code, scope: params.scope ?? "", ...state })
    })

  return {
    routes: [
      { path: AUTHORIZE_PATH, get: showAuthorize, post: decideAuthorize },
      { path: CodexPaths.userCode, post: ({ params }) => issueCode(params) },
      { path: CodexPaths.poll, post: ({ params }) => pollCode(params) },
      approvalRoute(context, CodexPaths.device)
    ],
    grants: [
      ["authorization_code", exchangeCode],
      [TOKEN_EXCHANGE_GRANT, (params) => Effect.sync(() => tokenExchange(params))]
    ]
  }
}
