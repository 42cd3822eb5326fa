import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Option, Redacted } from "effect"
import { readFileSync } from "node:fs"
import {
  authMethod,
  encodeStoredAuth,
  parseStoredAuth,
  SignInOrigin,
  StoredAuth,
  StoredTokens
} from "../src/domain/StoredAuth.js"
import { VERSION } from "../src/version.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")

const record = (origin: Option.Option<SignInOrigin>) =>
  new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(Redacted.make("id.jwt.x")),
        accessToken: Redacted.make("access.jwt.x"),
        refreshToken: Option.some(Redacted.make("rt_1")),
        accountId: Option.some("acct_1"),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.some(DateTime.unsafeMake("2026-04-25T12:34:56.123Z")),
    origin,
    extra: []
  })

describe("StoredAuth (auth.json)", () => {
  it("encodes codex's exact bytes for the default issuer", () => {
    assert.strictEqual(
      encodeStoredAuth(record(Option.none())),
      `{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": "id.jwt.x",
    "access_token": "access.jwt.x",
    "refresh_token": "rt_1",
    "account_id": "acct_1"
  },
  "last_refresh": "2026-04-25T12:34:56.123Z"
}`
    )
  })

  it("records another issuer where codex 0.169 does: tokens.oauth_provenance, before account_id", () => {
    const origin = new SignInOrigin({
      dialect: "codex",
      issuer: "http://127.0.0.1:1455",
      clientId: "app_x",
      scope: Option.none()
    })
    const text = encodeStoredAuth(record(Option.some(origin)))
    assert.deepStrictEqual(Object.keys(JSON.parse(text).tokens), [
      "id_token",
      "access_token",
      "refresh_token",
      "oauth_provenance",
      "account_id"
    ])
    const parsed = Either.getOrThrow(parseStoredAuth(text))
    assert.deepStrictEqual(Option.getOrNull(parsed.origin), origin)
  })

  it("reads what the real codex wrote and keeps its unknown fields on rewrite", () => {
    const text = fixture("codex-0.169-device-login.auth.json")
    const parsed = Either.getOrThrow(parseStoredAuth(text))
    assert.deepStrictEqual(Option.getOrNull(authMethod(parsed)), "chatgpt")
    const rewritten = JSON.parse(encodeStoredAuth(parsed))
    const original = JSON.parse(text)
    assert.strictEqual(rewritten.tokens.login_owner_id, original.tokens.login_owner_id)
    assert.deepStrictEqual(rewritten.tokens.oauth_provenance, original.tokens.oauth_provenance)
    assert.strictEqual(rewritten.tokens.refresh_token, original.tokens.refresh_token)
    assert.strictEqual(Date.parse(rewritten.last_refresh), Math.floor(Date.parse(original.last_refresh)))
  })

  it("round-trips codex's API-key file byte for byte", () => {
    const text = fixture("codex-0.169-api-key.auth.json")
    assert.strictEqual(encodeStoredAuth(Either.getOrThrow(parseStoredAuth(text))), text)
  })

  it("a key without auth_mode is API-key auth", () => {
    const parsed = Either.getOrThrow(parseStoredAuth('{"OPENAI_API_KEY": "sk-x"}'))
    assert.deepStrictEqual(Option.getOrNull(authMethod(parsed)), "apikey")
  })

  it("says where a file is wrong without quoting a secret", () => {
    const cases: ReadonlyArray<readonly [string, string]> = [
      ['{"tokens": 5', "not valid JSON"],
      ["[]", "not a JSON object"],
      ['{"tokens": {"id_token": "SECRET-VALUE"}}', "tokens.access_token is missing"],
      ['{"tokens": {"access_token": 7, "id_token": "SECRET-VALUE"}}', "tokens.access_token has the wrong type"]
    ]
    for (const [text, expected] of cases) {
      const problem = Either.getLeft(parseStoredAuth(text))
      assert.deepStrictEqual(Option.getOrNull(problem), expected)
      assert.notInclude(
        Option.getOrElse(problem, () => ""),
        "SECRET"
      )
    }
  })

  it("VERSION matches package.json", () => {
    assert.strictEqual(VERSION, JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version)
  })
})
