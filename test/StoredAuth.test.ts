import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Either, Option, Redacted, TestClock } from "effect"
import { readFileSync } from "node:fs"
import {
  authMethod,
  encodeStoredAuth,
  formatNanos,
  parseStoredAuth,
  SignInOrigin,
  StoredAuth,
  StoredTokens,
  subMillisecondNanos
} from "../src/domain/StoredAuth.js"
import { newLoginOwnerId, refreshInstant } from "../src/services/stamps.js"
import { VERSION } from "../src/version.js"

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")

const record = (origin: Option.Option<SignInOrigin>, loginOwnerId: Option.Option<string> = Option.none()) =>
  new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(Redacted.make("id.jwt.x")),
        accessToken: Redacted.make("access.jwt.x"),
        refreshToken: Option.some(Redacted.make("rt_1")),
        accountId: Option.some("acct_1"),
        loginOwnerId,
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

  it("records another issuer and the login owner where codex 0.169 and 0.171 do: before account_id", () => {
    const origin = new SignInOrigin({
      dialect: "codex",
      issuer: "http://127.0.0.1:1455",
      clientId: "app_x",
      scope: Option.none()
    })
    const text = encodeStoredAuth(record(Option.some(origin), Option.some("owner-id")))
    assert.deepStrictEqual(Object.keys(JSON.parse(text).tokens), [
      "id_token",
      "access_token",
      "refresh_token",
      "oauth_provenance",
      "login_owner_id",
      "account_id"
    ])
    const parsed = Either.getOrThrow(parseStoredAuth(text))
    assert.deepStrictEqual(Option.getOrNull(parsed.origin), origin)
  })

  it("reads what the real codex wrote and keeps its unknown fields on rewrite", () => {
    const text = fixture("codex-0.169-device-login.auth.json")
    const parsed = Either.getOrThrow(parseStoredAuth(text))
    assert.deepStrictEqual(Option.getOrNull(authMethod(parsed)), "chatgpt")
    // byte for byte: login_owner_id in its place, last_refresh with all nine fractional digits
    assert.strictEqual(encodeStoredAuth(parsed), text)
    assert.deepStrictEqual(
      parsed.tokens.pipe(Option.flatMap((tokens) => tokens.loginOwnerId)),
      Option.some(JSON.parse(text).tokens.login_owner_id)
    )
  })

  it("writes last_refresh as codex does: RFC 3339 in UTC, chrono's AutoSi fraction (9, 6 or 3 digits, or none)", () => {
    const at = DateTime.unsafeMake("2026-12-07T00:24:33.806Z")
    assert.strictEqual(formatNanos(at, 829746), "2026-12-07T00:24:33.806829746Z")
    assert.strictEqual(formatNanos(at, 5), "2026-12-07T00:24:33.806000005Z")
    // trailing zeros trimmed three at a time, as chrono's SecondsFormat::AutoSi (codex 0.169, 0.171)
    assert.strictEqual(formatNanos(at, 829000), "2026-12-07T00:24:33.806829Z")
    assert.strictEqual(formatNanos(at), "2026-12-07T00:24:33.806Z")
    assert.strictEqual(
      formatNanos(DateTime.unsafeMake("2026-12-07T00:24:33.000Z"), 1000),
      "2026-12-07T00:24:33.000001Z"
    )
    assert.strictEqual(formatNanos(DateTime.unsafeMake("2026-12-07T00:24:33.000Z")), "2026-12-07T00:24:33Z")
    assert.strictEqual(subMillisecondNanos("2026-12-07T00:24:33.806829Z"), 829000)
    assert.strictEqual(subMillisecondNanos("2026-12-07T00:24:33.806829746Z"), 829746)
    assert.strictEqual(subMillisecondNanos("2026-12-07T00:24:33.8068Z"), 800000)
    assert.strictEqual(subMillisecondNanos("2026-12-07T00:24:33.806Z"), 0)
    assert.strictEqual(subMillisecondNanos("2026-12-07T00:24:33Z"), 0)
    // a record in milliseconds is written again as codex writes that instant (AutoSi: three digits)
    const old = Either.getOrThrow(parseStoredAuth('{"OPENAI_API_KEY":null,"last_refresh":"2026-04-25T12:34:56.123Z"}'))
    assert.strictEqual(JSON.parse(encodeStoredAuth(old)).last_refresh, "2026-04-25T12:34:56.123Z")
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

describe("stamps (services/stamps.ts)", () => {
  it.effect("refreshInstant reads the Clock to the nanosecond, also when TestClock stands between milliseconds", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(Duration.millis(1_234))
      const whole = yield* refreshInstant
      assert.strictEqual(DateTime.toEpochMillis(whole.at), 1_234)
      assert.strictEqual(whole.nanos, 0)
      // a jittered sleep leaves TestClock at a fraction of a millisecond, where its currentTimeNanos throws
      yield* TestClock.adjust(Duration.millis(0.25))
      const fraction = yield* refreshInstant
      assert.strictEqual(DateTime.toEpochMillis(fraction.at), 1_234)
      assert.strictEqual(fraction.nanos, 250_000)
      assert.strictEqual(formatNanos(fraction.at, fraction.nanos), "1970-01-01T00:00:01.234250Z")
    })
  )

  it.effect("newLoginOwnerId is 32 random bytes in base64url without padding, new each time", () =>
    Effect.gen(function* () {
      const [a, b] = [yield* newLoginOwnerId, yield* newLoginOwnerId]
      assert.match(a, /^[A-Za-z0-9_-]{43}$/)
      assert.strictEqual(Buffer.from(a, "base64url").length, 32)
      assert.notStrictEqual(a, b)
    })
  )
})
