import { DateTime, Option, Redacted } from "effect"
import { StoredAuth, StoredTokens } from "../../src/domain/StoredAuth.js"
import { chatgptClaims, unsignedJwt } from "../../src/testing/ScriptedIssuer.js"

/** A fixed ChatGPT sign-in whose encoded bytes the store tests compare exactly. */
export const fixedChatgptAuth = new StoredAuth({
  authMode: Option.some("chatgpt"),
  apiKey: Option.none(),
  tokens: Option.some(
    new StoredTokens({
      idToken: Option.some(Redacted.make("id.jwt")),
      accessToken: Redacted.make("access.jwt"),
      refreshToken: Option.some(Redacted.make("rt_opaque")),
      accountId: Option.some("acct-1"),
      loginOwnerId: Option.none(),
      expiresAt: Option.none(),
      extra: []
    })
  ),
  lastRefresh: Option.some(DateTime.unsafeMake("2026-04-25T12:34:56.123Z")),
  origin: Option.none(),
  extra: []
})

/** An auth.json as codex writes it for a ChatGPT sign-in whose access token is valid until 2100 (no refresh due). */
export const freshChatgptAuthJson = (refreshToken: string): string =>
  JSON.stringify({
    OPENAI_API_KEY: null,
    tokens: {
      id_token: unsignedJwt(chatgptClaims()),
      access_token: unsignedJwt({ exp: 4_102_444_800 }),
      refresh_token: refreshToken,
      account_id: "acct_test"
    },
    last_refresh: null
  })
