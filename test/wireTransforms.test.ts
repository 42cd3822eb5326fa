import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Option, Redacted, Schema, TestClock } from "effect"
import {
  CodexDeviceCodeFromWire,
  CodexRefreshFromWire,
  CodexTokenSetFromWire,
  codexEndpoints
} from "../src/domain/CodexWire.js"
import { DeviceCode } from "../src/domain/DeviceCode.js"
import { wireProblem } from "../src/domain/Json.js"
import { OidcDeviceCodeFromWire, OidcRefreshFromWire, OidcTokenSetFromWire } from "../src/domain/OidcWire.js"
import { TokenSet } from "../src/domain/TokenSet.js"

const VERIFICATION = codexEndpoints("https://auth.openai.com").verification

/** Decodes as the issuers do (every problem at once) and fails with the message an issuer would give. */
const decode = <A, I>(schema: Schema.Schema<A, I>, json: unknown) =>
  Schema.decodeUnknown(schema, { errors: "all" })(json).pipe(Effect.mapError(wireProblem))

const reveal = (token: Option.Option<Redacted.Redacted<string>>) => Option.getOrNull(Option.map(token, Redacted.value))
const seconds = (duration: Option.Option<Duration.Duration>) =>
  Option.getOrNull(Option.map(duration, Duration.toSeconds))

describe("CodexDeviceCodeFromWire (§1 → DeviceCode)", () => {
  const live = {
    device_auth_id: "deviceauth_0123",
    user_code: "9F29-9M6JA",
    interval: "5",
    expires_at: "2026-04-25T12:49:56.000Z"
  }

  it.effect("reads the live answer: codex's page, a string interval, expires_at", () =>
    Effect.gen(function* () {
      const code = yield* decode(CodexDeviceCodeFromWire(VERIFICATION), live)
      assert.instanceOf(code, DeviceCode)
      assert.strictEqual(Redacted.value(code.deviceCode), "deviceauth_0123")
      assert.strictEqual(String(code.deviceCode), "<redacted>")
      assert.strictEqual(code.userCode, "9F29-9M6JA")
      assert.strictEqual(code.verificationUri, "https://auth.openai.com/codex/device")
      assert.isTrue(Option.isNone(code.verificationUriComplete))
      assert.isTrue(Duration.equals(code.interval, Duration.seconds(5)))
      assert.deepStrictEqual(code.expiresAt, Option.some(DateTime.unsafeMake("2026-04-25T12:49:56Z")))
    })
  )

  it.effect("user_code may come as usercode; a blank one is missing", () =>
    Effect.gen(function* () {
      const schema = CodexDeviceCodeFromWire(VERIFICATION)
      const alias = yield* decode(schema, { device_auth_id: "d", user_code: " ", usercode: "ABCD-EFGH" })
      assert.strictEqual(alias.userCode, "ABCD-EFGH")
      assert.strictEqual(yield* Effect.flip(decode(schema, { device_auth_id: "d", usercode: "" })), "missing user_code")
      assert.strictEqual(yield* Effect.flip(decode(schema, { device_auth_id: "d" })), "missing user_code")
    })
  )

  it.effect("the interval: a string or a number of seconds, 5 s when unreadable, never below 1 s", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, number]> = [
        ["5", 5],
        [12, 12],
        [undefined, 5],
        ["abc", 5],
        [null, 5],
        ["0", 1],
        [0.2, 1]
      ]
      for (const [interval, expected] of cases) {
        const code = yield* decode(CodexDeviceCodeFromWire(VERIFICATION), { ...live, interval })
        assert.strictEqual(Duration.toSeconds(code.interval), expected, `interval ${String(interval)}`)
      }
    })
  )

  it.effect("an expires_at that is null, blank or no instant is none", () =>
    Effect.gen(function* () {
      for (const expires_at of [null, "", "  ", "not a date", undefined]) {
        const code = yield* decode(CodexDeviceCodeFromWire(VERIFICATION), { ...live, expires_at })
        assert.isTrue(Option.isNone(code.expiresAt), String(expires_at))
      }
    })
  )

  it.effect("an unusable device_auth_id is named, not quoted", () =>
    Effect.gen(function* () {
      const problem = yield* Effect.flip(
        decode(CodexDeviceCodeFromWire(VERIFICATION), { ...live, device_auth_id: "secret with space" })
      )
      assert.strictEqual(problem, "missing or invalid device_auth_id")
    })
  )

  it.effect("writes the answer back as the live server sends it", () =>
    Effect.gen(function* () {
      const schema = CodexDeviceCodeFromWire(VERIFICATION)
      const code = yield* decode(schema, live)
      assert.deepStrictEqual(yield* Schema.encode(schema)(code), live)
    })
  )
})

describe("CodexTokenSetFromWire (§4 → TokenSet) and CodexRefreshFromWire (§8)", () => {
  const answer = { id_token: "eyJ.id.x", access_token: "eyJ.access.x", refresh_token: "rt_1", expires_in: 3600 }

  it.effect("reads the three tokens, Redacted, and a numeric expires_in", () =>
    Effect.gen(function* () {
      const tokens = yield* decode(CodexTokenSetFromWire, answer)
      assert.instanceOf(tokens, TokenSet)
      assert.strictEqual(Redacted.value(tokens.accessToken), "eyJ.access.x")
      assert.strictEqual(reveal(tokens.idToken), "eyJ.id.x")
      assert.strictEqual(reveal(tokens.refreshToken), "rt_1")
      assert.strictEqual(seconds(tokens.expiresIn), 3600)
      assert.deepStrictEqual(yield* Schema.encode(CodexTokenSetFromWire)(tokens), answer)
    })
  )

  it.effect("expires_in: only a number from 0 to ten years; a string, a negative or a huge one is none", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, number | null]> = [
        [0, 0],
        [90.5, 90.5],
        ["3600", null],
        [-5, null],
        [1e13, null],
        [null, null],
        [undefined, null]
      ]
      for (const [expires_in, expected] of cases) {
        const tokens = yield* decode(CodexTokenSetFromWire, { ...answer, expires_in })
        assert.strictEqual(seconds(tokens.expiresIn), expected, String(expires_in))
      }
    })
  )

  it.effect("every token is required and must be usable; the problem names fields only", () =>
    Effect.gen(function* () {
      const problem = yield* Effect.flip(
        decode(CodexTokenSetFromWire, { access_token: "has space", refresh_token: 7, expires_in: "x" })
      )
      assert.strictEqual(problem, "missing or invalid id_token, access_token, refresh_token")
      assert.strictEqual(yield* Effect.flip(decode(CodexTokenSetFromWire, [answer])), "the body is not a JSON object")
    })
  )

  it.effect("a TokenSet without an id_token or refresh token is no Codex answer", () =>
    Effect.gen(function* () {
      const tokens = new TokenSet({
        accessToken: Redacted.make("at"),
        idToken: Option.none(),
        refreshToken: Option.some(Redacted.make("rt")),
        expiresIn: Option.none()
      })
      const error = yield* Effect.flip(Schema.encode(CodexTokenSetFromWire)(tokens))
      assert.include(error.message, "a Codex token answer has an id_token and a refresh_token")
    })
  )

  it.effect("a refresh answer: each token optional (null is absent), expires_in as a number", () =>
    Effect.gen(function* () {
      const refreshed = yield* decode(CodexRefreshFromWire, {
        access_token: "eyJ.new",
        id_token: null,
        expires_in: "60"
      })
      assert.strictEqual(reveal(refreshed.accessToken), "eyJ.new")
      assert.isTrue(Option.isNone(refreshed.idToken) && Option.isNone(refreshed.refreshToken))
      assert.isTrue(Option.isNone(refreshed.expiresIn))
      const empty = yield* decode(CodexRefreshFromWire, { expires_in: 120 })
      assert.isTrue(Option.isNone(empty.accessToken))
      assert.strictEqual(seconds(empty.expiresIn), 120)
      assert.deepStrictEqual(yield* Schema.encode(CodexRefreshFromWire)(refreshed), { access_token: "eyJ.new" })
      const problem = yield* Effect.flip(decode(CodexRefreshFromWire, { refresh_token: "" }))
      assert.strictEqual(problem, "missing or invalid refresh_token")
    })
  )
})

describe("OidcDeviceCodeFromWire (RFC 8628 §3.2 → DeviceCode)", () => {
  const live = {
    device_code: "GmRhmhcxhwAzkoEqiMEg_DnyEysNkuNhszIySk9eS",
    user_code: "WDJB-MJHT",
    verification_uri: "https://example.com/device",
    verification_uri_complete: "https://example.com/device?user_code=WDJB-MJHT",
    expires_in: 1800,
    interval: 5
  }

  it.effect("reads RFC 8628's example answer; the expiry counts from the given instant", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust(Duration.minutes(3))
      const now = yield* DateTime.now
      const code = yield* decode(OidcDeviceCodeFromWire(now), live)
      assert.instanceOf(code, DeviceCode)
      assert.strictEqual(Redacted.value(code.deviceCode), live.device_code)
      assert.strictEqual(code.userCode, "WDJB-MJHT")
      assert.strictEqual(code.verificationUri, "https://example.com/device")
      assert.deepStrictEqual(code.verificationUriComplete, Option.some(live.verification_uri_complete))
      assert.isTrue(Duration.equals(code.interval, Duration.seconds(5)))
      assert.deepStrictEqual(
        Option.map(code.expiresAt, DateTime.toEpochMillis),
        Option.some(Duration.toMillis(Duration.minutes(33)))
      )
      assert.deepStrictEqual(yield* Schema.encode(OidcDeviceCodeFromWire(now))(code), live)
    })
  )

  it.effect("Google's verification_url stands in for verification_uri; a blank complete URI is none", () =>
    Effect.gen(function* () {
      const { verification_uri: _, ...google } = live
      const code = yield* decode(OidcDeviceCodeFromWire(yield* DateTime.now), {
        ...google,
        verification_uri: " ",
        verification_url: "https://www.google.com/device",
        verification_uri_complete: ""
      })
      assert.strictEqual(code.verificationUri, "https://www.google.com/device")
      assert.isTrue(Option.isNone(code.verificationUriComplete))
    })
  )

  it.effect("a missing or blank user code or verification URI is refused by name", () =>
    Effect.gen(function* () {
      const schema = OidcDeviceCodeFromWire(yield* DateTime.now)
      const { verification_uri: _, ...noUri } = live
      assert.strictEqual(yield* Effect.flip(decode(schema, { ...live, user_code: "  " })), "missing user_code")
      assert.strictEqual(yield* Effect.flip(decode(schema, noUri)), "missing verification_uri")
      assert.strictEqual(
        yield* Effect.flip(decode(schema, { ...live, device_code: "", user_code: 5 })),
        "missing or invalid device_code, user_code"
      )
    })
  )

  it.effect("expires_in and interval as numbers or numeric strings; unusable ones are none and 5 s", () =>
    Effect.gen(function* () {
      const schema = OidcDeviceCodeFromWire(yield* DateTime.now)
      const cases: ReadonlyArray<readonly [unknown, unknown, number | null, number]> = [
        ["600", "7", 600, 7],
        [-1, 0, null, 1],
        [1e308, "1e400", null, 5],
        [" ", " ", null, 5],
        [undefined, undefined, null, 5]
      ]
      for (const [expires_in, interval, expiresAt, every] of cases) {
        const code = yield* decode(schema, { ...live, expires_in, interval })
        const at = Option.getOrNull(Option.map(code.expiresAt, DateTime.toEpochMillis))
        assert.strictEqual(at === null ? null : at / 1000, expiresAt, `expires_in ${String(expires_in)}`)
        assert.strictEqual(Duration.toSeconds(code.interval), every, `interval ${String(interval)}`)
      }
    })
  )
})

describe("OidcTokenSetFromWire (RFC 6749 §5.1 → TokenSet) and OidcRefreshFromWire (§6)", () => {
  it.effect("reads an answer with or without id_token and refresh_token; expires_in may be a string", () =>
    Effect.gen(function* () {
      const full = yield* decode(OidcTokenSetFromWire, {
        access_token: "at",
        token_type: "Bearer",
        expires_in: "3600",
        refresh_token: "rt",
        id_token: "eyJ.id",
        scope: "openid"
      })
      assert.instanceOf(full, TokenSet)
      assert.strictEqual(Redacted.value(full.accessToken), "at")
      assert.strictEqual(reveal(full.refreshToken), "rt")
      assert.strictEqual(reveal(full.idToken), "eyJ.id")
      assert.strictEqual(seconds(full.expiresIn), 3600)
      const bare = yield* decode(OidcTokenSetFromWire, { access_token: "at", refresh_token: null, expires_in: -1 })
      assert.isTrue(Option.isNone(bare.refreshToken) && Option.isNone(bare.idToken) && Option.isNone(bare.expiresIn))
      assert.deepStrictEqual(yield* Schema.encode(OidcTokenSetFromWire)(full), {
        access_token: "at",
        token_type: "Bearer",
        expires_in: 3600,
        refresh_token: "rt",
        id_token: "eyJ.id"
      })
    })
  )

  it.effect("an access token is required and every token sent must be usable", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        yield* Effect.flip(decode(OidcTokenSetFromWire, { id_token: "a b", token_type: "Bearer" })),
        "missing or invalid access_token, id_token"
      )
    })
  )

  it.effect("a refresh answer may leave out every token", () =>
    Effect.gen(function* () {
      const refreshed = yield* decode(OidcRefreshFromWire, { refresh_token: "rt_2", expires_in: 1e13 })
      assert.isTrue(Option.isNone(refreshed.accessToken) && Option.isNone(refreshed.idToken))
      assert.strictEqual(reveal(refreshed.refreshToken), "rt_2")
      assert.isTrue(Option.isNone(refreshed.expiresIn))
      assert.deepStrictEqual(yield* Schema.encode(OidcRefreshFromWire)(refreshed), { refresh_token: "rt_2" })
      const timed = yield* decode(OidcRefreshFromWire, { access_token: "at", expires_in: 300 })
      assert.strictEqual(seconds(timed.expiresIn), 300)
    })
  )
})
