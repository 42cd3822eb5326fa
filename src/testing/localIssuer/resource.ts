import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { isRecord } from "../../domain/Json.js"
import type { Reply } from "./http.js"
import type { JwtSigner } from "./jwt.js"
import type { IssuerRequest, Route } from "./route.js"
import type { LocalIssuerStats } from "./types.js"

/** The protected resource's path. */
export const ResourcePaths = {
  me: "/v1/me"
} as const

/** The claims of an unexpired access token the signer made. */
export type AccessTokenVerifier = (token: string) => Effect.Effect<Option.Option<Record<string, unknown>>>

/** Verifies access tokens against the signer and the Effect clock. */
export const makeAccessTokenVerifier =
  (signer: JwtSigner): AccessTokenVerifier =>
  (token) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const claims = signer.verify(token)
      return claims !== undefined &&
        typeof claims.client_id === "string" &&
        typeof claims.exp === "number" &&
        claims.exp * 1000 > now
        ? Option.some(claims)
        : Option.none()
    })

/** `GET /v1/me`, a protected resource: the bearer token must be one this issuer signed and unexpired (RFC 6750 §3). */
export const resourceRoute = (options: {
  readonly verify: AccessTokenVerifier
  readonly count: (key: keyof LocalIssuerStats) => void
}): Route => {
  const me = ({ headers }: IssuerRequest): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      options.count("me")
      const bearer = /^Bearer (.+)$/.exec(headers.authorization ?? "")?.[1]
      const claims = bearer === undefined ? Option.none() : yield* options.verify(bearer)
      if (Option.isNone(claims)) {
        return {
          status: 401,
          body: JSON.stringify({
            error: { code: "invalid_token", message: "The access token is missing, invalid or expired." }
          }),
          headers: { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' }
        }
      }
      const auth = claims.value["https://api.openai.com/auth"]
      const accountId = isRecord(auth) ? auth.chatgpt_account_id : undefined
      const header = headers["chatgpt-account-id"]
      if (header !== undefined && header !== accountId) {
        return {
          status: 403,
          body: JSON.stringify({
            error: { code: "account_mismatch", message: "ChatGPT-Account-Id does not match the token." }
          }),
          headers: { "content-type": "application/json" }
        }
      }
      return {
        status: 200,
        body: JSON.stringify({
          sub: claims.value.sub,
          client_id: claims.value.client_id,
          account_id: accountId ?? null,
          expires_at: new Date(Number(claims.value.exp) * 1000).toISOString()
        }),
        headers: { "content-type": "application/json" }
      }
    })

  return { path: ResourcePaths.me, readsBody: false, get: me }
}
