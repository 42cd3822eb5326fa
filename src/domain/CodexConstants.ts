// The Codex dialect's fixed values and rules (codex-protocol.md), without its wire schemas: what resolving a setup
// and serving a stored token need.
import * as Option from "effect/Option"

/** Codex dialect constants (codex-protocol.md). */
export const CODEX_DEFAULT_ISSUER = "https://auth.openai.com"
export const CODEX_CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"

/** Codex endpoints under an issuer whose trailing `/` is trimmed. */
export const codexEndpoints = (issuer: string) => ({
  userCode: `${issuer}/api/accounts/deviceauth/usercode`,
  poll: `${issuer}/api/accounts/deviceauth/token`,
  verification: `${issuer}/codex/device`,
  redirectUri: `${issuer}/deviceauth/callback`,
  token: `${issuer}/oauth/token`,
  revoke: `${issuer}/oauth/revoke`
})

/** The loopback port codex's browser login serves its callback on (and asks an older login there to `/cancel`). */
export const CODEX_BROWSER_PORT = 1455

/** The scopes codex's browser login asks for. */
export const CODEX_BROWSER_SCOPE = "openid profile email offline_access api.connectors.read api.connectors.invoke"

/** Trims the trailing slashes codex trims from an issuer URL. */
export const normalizeIssuer = (issuer: string): string => issuer.trim().replace(/\/+$/, "")

/** The headers ChatGPT's APIs want on an app's request besides the bearer token: the workspace's account id. */
export const codexRequestHeaders = (accountId: Option.Option<string>): Readonly<Record<string, string>> =>
  Option.match(accountId, { onNone: () => ({}), onSome: (id) => ({ "ChatGPT-Account-Id": id }) })
