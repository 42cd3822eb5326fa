import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Option, Redacted } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { CODEX_DEFAULT_ISSUER } from "../src/domain/CodexWire.js"
import { SignInOrigin, StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import { accountIdOf, claimsOf, maskApiKey, type SignInSummary, summarizeSignIn } from "../src/domain/SignInSummary.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { describeSignIn } from "../src/services/describeSignIn.js"
import { apiKeySignIn, chatgptSignIn, EXP_2100, oidcSignIn, Platform } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

const describeStored = (stored: Option.Option<StoredAuth>) =>
  Effect.flatMap(MemoryStore.make(stored), (store) =>
    describeSignIn.pipe(Effect.provideService(CredentialStore, store))
  )

const summaryOf = (record: StoredAuth): SignInSummary => Option.getOrThrow(summarizeSignIn(record))

describe("describeSignIn", () => {
  it.effect("nobody signed in: where the store is, and no sign-in", () =>
    Effect.gen(function* () {
      const description = yield* describeStored(Option.none())
      assert.strictEqual(description.location, "memory (ephemeral)")
      assert.isTrue(Option.isNone(description.signIn))
    })
  )

  it.effect("a ChatGPT sign-in: who, which plan and account, and when its access token expires", () =>
    Effect.gen(function* () {
      const signIn = Option.getOrThrow((yield* describeStored(Option.some(chatgptSignIn()))).signIn)
      assert.strictEqual(signIn.method, "chatgpt")
      assert.strictEqual(signIn.dialect, "codex")
      assert.strictEqual(signIn.issuer, CODEX_DEFAULT_ISSUER)
      assert.isTrue(Option.isNone(signIn.origin))
      assert.deepStrictEqual(signIn.claims.email, Option.some("dev@example.com"))
      assert.deepStrictEqual(signIn.claims.plan, Option.some("plus"))
      assert.deepStrictEqual(signIn.accountId, Option.some("acct_test"))
      assert.deepStrictEqual(signIn.expiresAt, Option.some(DateTime.unsafeMake(EXP_2100 * 1000)))
      assert.isTrue(Option.isNone(signIn.maskedApiKey))
    })
  )

  it.scoped("an unreadable stored sign-in fails Corrupt, naming the file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      writeFileSync(authPath, "[]", { mode: 0o600 })
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const error = yield* Effect.flip(describeSignIn.pipe(Effect.provideService(CredentialStore, store)))
      assert.strictEqual(error.reason, "Corrupt")
      assert.strictEqual(error.path, authPath)
    })
  )
})

describe("summarizeSignIn", () => {
  it("the stored account id wins over the id_token's; without one, the id_token's", () => {
    const both = chatgptSignIn({ accountId: "acct_stored", claimedAccountId: "acct_claimed" })
    assert.deepStrictEqual(summaryOf(both).accountId, Option.some("acct_stored"))
    assert.deepStrictEqual(accountIdOf(both), Option.some("acct_stored"))
    const claimedOnly = chatgptSignIn({ accountId: null, claimedAccountId: "acct_claimed" })
    assert.deepStrictEqual(summaryOf(claimedOnly).accountId, Option.some("acct_claimed"))
    // the claims an exchange already read are used as they are
    assert.deepStrictEqual(accountIdOf(claimedOnly, claimsOf(chatgptSignIn())), Option.some("acct_test"))
    assert.isTrue(Option.isNone(summaryOf(chatgptSignIn({ accountId: null })).accountId))
  })

  it("an RFC 8628 sign-in: its origin's issuer and dialect, and the expiry it stored", () => {
    const summary = summaryOf(oidcSignIn("https://idp.test"))
    assert.strictEqual(summary.method, "oidc")
    assert.strictEqual(summary.dialect, "rfc8628")
    assert.strictEqual(summary.issuer, "https://idp.test")
    assert.deepStrictEqual(summary.claims.subject, Option.some("subject-1"))
    assert.deepStrictEqual(summary.claims.name, Option.some("Dee Veloper"))
    assert.deepStrictEqual(summary.expiresAt, Option.some(DateTime.unsafeMake("2030-01-02T03:04:05.000Z")))
  })

  it("an oidc record without an origin is still RFC 8628; a codex origin names its issuer", () => {
    const bare = new StoredAuth({ ...oidcSignIn(), origin: Option.none() })
    assert.strictEqual(summaryOf(bare).dialect, "rfc8628")
    const origin = new SignInOrigin({
      dialect: "codex",
      issuer: "https://other.test",
      clientId: "c",
      scope: Option.none()
    })
    const summary = summaryOf(chatgptSignIn({ origin }))
    assert.deepStrictEqual([summary.dialect, summary.issuer], ["codex", "https://other.test"])
    assert.deepStrictEqual(summary.origin, Option.some(origin))
  })

  it("an API key: masked as codex masks it, no expiry", () => {
    const summary = summaryOf(apiKeySignIn("sk-proj-0123456789abcdef"))
    assert.strictEqual(summary.method, "apikey")
    assert.deepStrictEqual(summary.maskedApiKey, Option.some("sk-proj-***bcdef"))
    assert.isTrue(Option.isNone(summary.expiresAt))
    assert.strictEqual(maskApiKey("sk-short-key1"), "***")
    assert.strictEqual(maskApiKey("sk-short-key12"), "sk-short***key12")
  })

  it("unreadable claims read as none; an opaque access token has no expiry; no sign-in is none", () => {
    const opaque = new StoredAuth({
      ...chatgptSignIn({ accountId: null }),
      tokens: Option.some(
        new StoredTokens({
          idToken: Option.some(Redacted.make("not-a-jwt")),
          accessToken: Redacted.make("opaque"),
          refreshToken: Option.none(),
          accountId: Option.none(),
          loginOwnerId: Option.none(),
          expiresAt: Option.none(),
          extra: []
        })
      )
    })
    const summary = summaryOf(opaque)
    assert.isTrue(Option.isNone(summary.claims.email))
    assert.isTrue(Option.isNone(summary.accountId))
    assert.isTrue(Option.isNone(summary.expiresAt))
    const nothing = new StoredAuth({
      authMode: Option.some("apikey"),
      apiKey: Option.some(Redacted.make("  ")),
      tokens: Option.none(),
      lastRefresh: Option.none(),
      origin: Option.none(),
      extra: []
    })
    assert.isTrue(Option.isNone(summarizeSignIn(nothing)))
  })
})
