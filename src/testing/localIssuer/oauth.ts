import * as Effect from "effect/Effect"
import { oauthError, type Params, type Reply } from "./http.js"
import type { GrantHandler, Route } from "./route.js"

/** The endpoints both dialects share. */
export const OAuthPaths = {
  token: "/oauth/token",
  revoke: "/oauth/revoke"
} as const

/** The token endpoint, which hands each `grant_type` to its handler, and the revocation endpoint (RFC 7009). */
export const oauthRoutes = (options: {
  readonly grants: ReadonlyMap<string, GrantHandler>
  readonly revoke: (params: Params) => Reply
}): ReadonlyArray<Route> => [
  {
    path: OAuthPaths.token,
    badBody: "oauth",
    logsGrantType: true,
    post: ({ params }) => {
      const grant = params.grant_type === undefined ? undefined : options.grants.get(params.grant_type)
      return grant !== undefined
        ? grant(params)
        : Effect.succeed(
            oauthError(400, "unsupported_grant_type", `grant_type ${params.grant_type ?? "(none)"} is not supported.`)
          )
    }
  },
  {
    path: OAuthPaths.revoke,
    badBody: "oauth",
    post: ({ params }) => Effect.sync(() => options.revoke(params))
  }
]
