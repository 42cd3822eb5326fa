import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Grant } from "./codes.js"
import { codexError, json, oauthError, type Params, type Reply } from "./http.js"
import { type JwtSigner, randomToken } from "./jwt.js"
import type { LocalIssuerStats } from "./types.js"

/** Who the issuer signs tokens for, and for how long. */
export interface TokenOptions {
  readonly url: string
  readonly signer: JwtSigner
  /** Read at each mint, so a test can change it while the issuer runs. */
  readonly accessTokenTtlSeconds: () => number
  /** Read at each refresh: how long it waits before answering. */
  readonly refreshDelayMillis: () => number
  readonly codexClientId: string
  readonly oidcClientId: string
  readonly email: string
  readonly name: string
  readonly plan: string
  /** The `chatgpt_account_id` claim of codex tokens; null omits it. */
  readonly accountId: string | null
  readonly count: (key: keyof LocalIssuerStats) => void
}

/** The token machinery both dialects share: minting, refresh with rotation, and revocation. */
export interface Tokens {
  /**
   * The 200 body of a token grant, in the grant's dialect, its id_token with the grant's nonce if any; its refresh
   * token is recorded as active.
   */
  readonly mint: (grant: Grant) => Effect.Effect<Record<string, unknown>>
  /** `grant_type=refresh_token` at the token endpoint. */
  readonly refresh: (params: Params) => Effect.Effect<Reply>
  /** The revocation endpoint (RFC 7009), JSON or form. */
  readonly revoke: (params: Params) => Reply
  /** Where a refresh token this issuer minted stands; none for one it never minted. */
  readonly refreshTokenState: (token: string) => Option.Option<RefreshTokenState>
}

/** A minted refresh token: still spendable, spent by a refresh, or revoked. */
export type RefreshTokenState = "active" | "used" | "revoked"

interface RefreshRecord {
  readonly grant: Grant
  state: RefreshTokenState
}

/** Why a refresh token cannot be spent, and how both dialects describe it. */
type Refusal = "unknown" | "revoked" | "used"

const REFUSALS: Record<Refusal, string> = {
  unknown: "The refresh token is not valid.",
  revoked: "The refresh token was revoked.",
  used: "The refresh token was already used."
}

const AUTH_CLAIM = "https://api.openai.com/auth"
const PROFILE_CLAIM = "https://api.openai.com/profile"
const USER_ID = "user-local0001"
const SUBJECT = `local|${USER_ID}`

/** Makes the token machinery over one signer. */
export const makeTokens = (options: TokenOptions): Tokens => {
  const { accessTokenTtlSeconds, count, email, signer, url } = options
  const refreshTokens = new Map<string, RefreshRecord>()

  const newRefreshToken = (grant: Grant): string => {
    const token = `rt_${randomToken(32)}`
    // A refresh answers no authentication request, so its id_tokens carry no nonce (OpenID Connect issue 1025).
    const { nonce: _nonce, ...refreshed } = grant
    refreshTokens.set(token, { grant: refreshed, state: "active" })
    return token
  }

  // The id_token claims both dialects share: who signed it, for which client, about whom, and for which sign-in.
  const identity = (grant: Grant) => ({
    iss: url,
    aud: grant.clientId,
    sub: SUBJECT,
    email,
    email_verified: true,
    ...(grant.nonce === undefined ? {} : { nonce: grant.nonce })
  })

  const mintCodex = (grant: Grant, iat: number, exp: number) => {
    const auth = {
      ...(options.accountId === null ? {} : { chatgpt_account_id: options.accountId }),
      chatgpt_plan_type: options.plan,
      chatgpt_user_id: USER_ID,
      user_id: USER_ID
    }
    return {
      id_token: signer.sign({
        ...identity(grant),
        iat,
        exp,
        [PROFILE_CLAIM]: { email, email_verified: true },
        [AUTH_CLAIM]: auth
      }),
      access_token: signer.sign({
        iss: url,
        aud: ["https://api.openai.com/v1"],
        sub: SUBJECT,
        client_id: grant.clientId,
        iat,
        exp,
        jti: randomToken(12),
        [AUTH_CLAIM]: auth
      }),
      refresh_token: newRefreshToken(grant),
      expires_in: exp - iat
    }
  }

  const mintOidc = (grant: Grant, iat: number, exp: number) => {
    const scope = grant.scope.join(" ")
    const accessToken = signer.sign({
      iss: url,
      aud: url,
      sub: SUBJECT,
      client_id: grant.clientId,
      scope,
      iat,
      exp,
      jti: randomToken(12)
    })
    const idToken = grant.scope.includes("openid")
      ? {
          id_token: signer.sign({
            ...identity(grant),
            name: options.name,
            iat,
            exp
          })
        }
      : {}
    return {
      access_token: accessToken,
      token_type: "Bearer",
      expires_in: exp - iat,
      refresh_token: newRefreshToken(grant),
      ...idToken,
      scope
    }
  }

  const mint = (grant: Grant) =>
    Effect.map(Clock.currentTimeMillis, (now): Record<string, unknown> => {
      const iat = Math.floor(now / 1000)
      const exp = iat + accessTokenTtlSeconds()
      return grant.dialect === "codex" ? mintCodex(grant, iat, exp) : mintOidc(grant, iat, exp)
    })

  const isKnownClient = (clientId: string) => clientId === options.codexClientId || clientId === options.oidcClientId

  // One spend per refresh token: a second use is counted as reuse and refused like an unknown or revoked one.
  const spend = (record: RefreshRecord | undefined, refuse: (refusal: Refusal) => Reply): Effect.Effect<Reply> => {
    switch (record?.state) {
      case undefined:
        return Effect.succeed(refuse("unknown"))
      case "revoked":
        return Effect.succeed(refuse("revoked"))
      case "used":
        count("refreshTokenReused")
        return Effect.succeed(refuse("used"))
      case "active":
        record.state = "used"
        return Effect.map(mint(record.grant), (body) => json(200, body))
    }
  }

  // Codex's refresh errors are 401s with its nested shape (codex-protocol.md §8).
  const refreshCodex = (record: RefreshRecord | undefined, clientId: string | undefined) => {
    if (clientId !== undefined && clientId !== options.codexClientId) {
      return Effect.succeed(codexError(401, "invalid_client", "client_id does not match."))
    }
    return spend(record, (refusal) =>
      codexError(401, refusal === "used" ? "refresh_token_reused" : "refresh_token_invalidated", REFUSALS[refusal])
    )
  }

  // RFC 6749 §5.2: a refresh token that is unknown, used, revoked or another client's is `invalid_grant`.
  const refreshOidc = (record: RefreshRecord | undefined, clientId: string | undefined) => {
    if (clientId !== undefined && !isKnownClient(clientId)) {
      return Effect.succeed(oauthError(400, "invalid_client", `Unknown client ${clientId}.`))
    }
    if (record !== undefined && clientId !== undefined && clientId !== record.grant.clientId) {
      return Effect.succeed(oauthError(400, "invalid_grant", "The refresh token was issued to another client."))
    }
    return spend(record, (refusal) => oauthError(400, "invalid_grant", REFUSALS[refusal]))
  }

  const refresh = (params: Params): Effect.Effect<Reply> =>
    Effect.suspend(() => {
      count("refresh")
      const delay = options.refreshDelayMillis()
      return delay > 0 ? Effect.zipRight(Effect.sleep(delay), answerRefresh(params)) : answerRefresh(params)
    })

  const answerRefresh = (params: Params): Effect.Effect<Reply> =>
    Effect.suspend(() => {
      const record = refreshTokens.get(params.refresh_token ?? "")
      const clientId = params.client_id
      // An unknown token is answered in the dialect of the client that sent it.
      const dialect =
        record?.grant.dialect ??
        (clientId === options.oidcClientId && clientId !== options.codexClientId ? "rfc8628" : "codex")
      return dialect === "codex" ? refreshCodex(record, clientId) : refreshOidc(record, clientId)
    })

  const revoke = (params: Params): Reply => {
    count("revoke")
    const clientId = params.client_id
    if (clientId !== undefined && !isKnownClient(clientId)) {
      return oauthError(400, "invalid_client", `Unknown client ${clientId}.`)
    }
    const record = refreshTokens.get(params.token ?? "")
    // RFC 7009 §2.1: another client's token is left alone; §2.2: the answer is 200 all the same.
    if (record !== undefined && (clientId === undefined || clientId === record.grant.clientId)) {
      record.state = "revoked"
    }
    return json(200, {})
  }

  const refreshTokenState = (token: string) => Option.map(Option.fromNullable(refreshTokens.get(token)), (r) => r.state)

  return { mint, refresh, revoke, refreshTokenState }
}
