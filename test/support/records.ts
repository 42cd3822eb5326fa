import { DateTime, Option, Redacted } from "effect"
import { StoredAuth, StoredTokens } from "../../src/domain/StoredAuth.js"

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
      expiresAt: Option.none(),
      extra: []
    })
  ),
  lastRefresh: Option.some(DateTime.unsafeMake("2026-04-25T12:34:56.123Z")),
  origin: Option.none(),
  extra: []
})
