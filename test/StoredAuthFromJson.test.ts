import { assert, describe, it } from "@effect/vitest"
import { DateTime, Either, Option, Redacted, Schema } from "effect"
import { readFileSync } from "node:fs"
import {
  apiKeyAuth,
  encodeStoredAuth,
  encodeStoredAuthCompact,
  parseStoredAuth,
  SignInOrigin,
  StoredAuth,
  StoredAuthFromJson,
  StoredTokens
} from "../src/domain/StoredAuth.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
const parse = (text: string) => Either.getOrThrow(parseStoredAuth(text))
const roundTrip = (text: string) => encodeStoredAuth(parse(text))

const tokens = (extra: StoredTokens["extra"] = []) =>
  new StoredTokens({
    idToken: Option.none(),
    accessToken: Redacted.make("at"),
    refreshToken: Option.some(Redacted.make("rt")),
    accountId: Option.none(),
    loginOwnerId: Option.none(),
    expiresAt: Option.none(),
    extra
  })

describe("StoredAuthFromJson (auth.json ↔ StoredAuth)", () => {
  it("decodes codex's file to the domain record, every token Redacted", () => {
    const json = JSON.parse(fixture("codex-0.169-device-login.auth.json"))
    const auth = Schema.decodeUnknownSync(StoredAuthFromJson)(json)
    assert.instanceOf(auth, StoredAuth)
    const stored = Option.getOrThrow(auth.tokens)
    assert.instanceOf(stored, StoredTokens)
    assert.isTrue(Redacted.isRedacted(stored.accessToken))
    assert.strictEqual(Redacted.value(stored.accessToken), json.tokens.access_token)
    assert.isTrue(Option.exists(stored.idToken, Redacted.isRedacted))
    assert.isTrue(Option.exists(stored.refreshToken, Redacted.isRedacted))
    assert.strictEqual(String(stored.accessToken), "<redacted>")
    // codex's oauth_provenance is the Codex-dialect origin
    assert.deepStrictEqual(
      auth.origin,
      Option.some(
        new SignInOrigin({
          dialect: "codex",
          issuer: "http://127.0.0.1:39117",
          clientId: "app_EMoamEEZ73f0CkXaXp7hrann",
          scope: Option.none()
        })
      )
    )
    assert.strictEqual(auth.lastRefreshNanos, 573241)
    assert.deepStrictEqual(Schema.encodeSync(StoredAuthFromJson)(auth), json)
  })

  it("keeps unknown fields at both levels in the order read, after codex's own", () => {
    const text = `{
  "auth_mode": "chatgpt",
  "OPENAI_API_KEY": null,
  "tokens": {
    "id_token": null,
    "access_token": "at",
    "refresh_token": "rt",
    "account_id": null,
    "zeta": 1,
    "alpha": {
      "nested": [
        true
      ]
    }
  },
  "last_refresh": "2026-04-25T12:34:56.123456789Z",
  "later": "x",
  "earlier": null
}`
    const auth = parse(text)
    assert.deepStrictEqual(
      auth.extra.map(([key]) => key),
      ["later", "earlier"]
    )
    assert.deepStrictEqual(
      Option.getOrThrow(auth.tokens).extra.map(([key]) => key),
      ["zeta", "alpha"]
    )
    assert.strictEqual(encodeStoredAuth(auth), text)
    // unknown fields read in between codex's are written after them
    const shuffled = `{"zz":1,"OPENAI_API_KEY":null,"tokens":{"q":2,"access_token":"at"},"auth_mode":"chatgpt"}`
    assert.strictEqual(
      encodeStoredAuthCompact(parse(shuffled)),
      `{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":null,"access_token":"at","refresh_token":null,"account_id":null,"q":2},"zz":1}`
    )
  })

  it("an RFC 8628 origin goes under devicecode, with its scope; a Codex origin without tokens too", () => {
    const oidc = new StoredAuth({
      authMode: Option.some("oidc"),
      apiKey: Option.none(),
      tokens: Option.some(tokens()),
      lastRefresh: Option.none(),
      origin: Option.some(
        new SignInOrigin({
          dialect: "rfc8628",
          issuer: "https://login.example.com",
          clientId: "cli",
          scope: Option.some("openid offline_access")
        })
      ),
      extra: []
    })
    const text = encodeStoredAuthCompact(oidc)
    assert.strictEqual(
      text,
      `{"auth_mode":"oidc","OPENAI_API_KEY":null,"tokens":{"id_token":null,"access_token":"at","refresh_token":"rt","account_id":null},"devicecode":{"dialect":"rfc8628","issuer":"https://login.example.com","client_id":"cli","scope":"openid offline_access"}}`
    )
    assert.deepStrictEqual(parse(text), oidc)

    const codexNoTokens = new StoredAuth({
      authMode: Option.none(),
      apiKey: Option.none(),
      tokens: Option.none(),
      lastRefresh: Option.none(),
      origin: Option.some(
        new SignInOrigin({ dialect: "codex", issuer: "http://x", clientId: "c", scope: Option.none() })
      ),
      extra: []
    })
    assert.strictEqual(
      encodeStoredAuthCompact(codexNoTokens),
      `{"OPENAI_API_KEY":null,"devicecode":{"dialect":"codex","issuer":"http://x","client_id":"c"}}`
    )
    assert.deepStrictEqual(parse(encodeStoredAuthCompact(codexNoTokens)), codexNoTokens)
  })

  it("devicecode's own origin wins over oauth_provenance when a file has both", () => {
    const auth = parse(
      `{"OPENAI_API_KEY":null,"tokens":{"access_token":"at","oauth_provenance":{"issuer":"http://a","client_id":"a"}},"devicecode":{"dialect":"rfc8628","issuer":"http://b","client_id":"b"}}`
    )
    assert.deepStrictEqual(
      Option.map(auth.origin, (origin) => origin.issuer),
      Option.some("http://b")
    )
  })

  it("null fields read as absent; OPENAI_API_KEY is always written, auth_mode only when set", () => {
    const auth = parse(`{"auth_mode":null,"OPENAI_API_KEY":null,"tokens":null,"last_refresh":null}`)
    assert.isTrue(Option.isNone(auth.authMode) && Option.isNone(auth.tokens) && Option.isNone(auth.lastRefresh))
    assert.strictEqual(auth.lastRefreshNanos, undefined)
    assert.strictEqual(encodeStoredAuthCompact(auth), `{"OPENAI_API_KEY":null}`)
    assert.strictEqual(encodeStoredAuthCompact(parse("{}")), `{"OPENAI_API_KEY":null}`)
  })

  it("expires_at is read and written as an ISO instant", () => {
    const text = `{"OPENAI_API_KEY":null,"tokens":{"id_token":null,"access_token":"at","refresh_token":null,"account_id":null,"expires_at":"2030-01-02T03:04:05.678Z"}}`
    const auth = parse(text)
    assert.deepStrictEqual(
      Option.flatMap(auth.tokens, (stored) => stored.expiresAt),
      Option.some(DateTime.unsafeMake("2030-01-02T03:04:05.678Z"))
    )
    assert.strictEqual(encodeStoredAuthCompact(auth), text)
  })

  it("the API-key record is codex's, compact for the keyring", () => {
    const auth = apiKeyAuth(Redacted.make("sk-x"), [["kept", 1]])
    assert.strictEqual(encodeStoredAuthCompact(auth), `{"auth_mode":"apikey","OPENAI_API_KEY":"sk-x","kept":1}`)
    assert.strictEqual(roundTrip(fixture("codex-0.169-api-key.auth.json")), fixture("codex-0.169-api-key.auth.json"))
  })

  it("a last_refresh that is not an instant, or an unknown dialect, is refused naming the field", () => {
    assert.deepStrictEqual(
      Either.getLeft(parseStoredAuth(`{"last_refresh":"yesterday"}`)),
      Option.some("last_refresh has the wrong type")
    )
    assert.deepStrictEqual(
      Either.getLeft(parseStoredAuth(`{"devicecode":{"dialect":"saml","issuer":"i","client_id":"c"}}`)),
      Option.some("devicecode.dialect has the wrong type")
    )
    assert.deepStrictEqual(
      Either.getLeft(parseStoredAuth(`{"OPENAI_API_KEY":5}`)),
      Option.some("OPENAI_API_KEY has the wrong type")
    )
  })
})
