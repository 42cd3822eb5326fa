import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Option, Redacted, Schema } from "effect"
import { qrCodeText } from "../src/cli/qrCode.js"
import { CliEvents } from "../src/index.js"

const TOKEN_LIKE = /token|secret|key|password|refresh/i

describe("CliEvents: the --json wire format", () => {
  it.effect("each event line decodes and encodes back to the same JSON", () =>
    Effect.gen(function* () {
      const lines: ReadonlyArray<unknown> = [
        {
          event: "code",
          verification_uri: "https://auth.example.com/device",
          verification_uri_complete: "https://auth.example.com/device?user_code=ABCD-EFGHI",
          user_code: "ABCD-EFGHI",
          expires_at: "2026-01-02T03:04:05.000Z",
          interval: 5
        },
        {
          event: "code",
          verification_uri: "https://auth.example.com/device",
          verification_uri_complete: null,
          user_code: "ABCD-EFGHI",
          expires_at: "2026-01-02T03:04:05.000Z",
          interval: 1.5
        },
        { event: "waiting", attempt: 2, next_poll_in: 5 },
        { event: "slow_down", interval: 10 },
        { event: "retrying", message: "device code poll could not reach the issuer", delay: 2.5 },
        { event: "approved" },
        {
          event: "logged_in",
          method: "chatgpt",
          email: "dev@example.com",
          plan: "plus",
          account_id: "acct_1",
          profile: "default"
        },
        { event: "logged_in", method: "oidc", email: null, plan: null, account_id: null, profile: "work" },
        { event: "logged_in", method: "apikey", profile: "default" },
        { event: "error", code: "DeviceAuthError", reason: "Denied", message: "the sign-in was denied" },
        { event: "error", code: "Cancelled", message: "Login cancelled" },
        { event: "logged_out", profile: "default", removed: true, revoked: false }
      ]
      for (const line of lines) {
        const event = yield* Schema.decodeUnknown(CliEvents.CliEvent)(line)
        assert.deepStrictEqual(yield* Schema.encode(CliEvents.CliEvent)(event), line)
      }
    })
  )

  it.effect("the code event carries Durations and a DateTime in code", () =>
    Effect.gen(function* () {
      const event = yield* Schema.decodeUnknown(CliEvents.CodeEvent)({
        event: "code",
        verification_uri: "https://auth.example.com/device",
        verification_uri_complete: null,
        user_code: "ABCD-EFGHI",
        expires_at: "2026-01-02T03:04:05.000Z",
        interval: 5
      })
      assert.isTrue(Duration.equals(event.interval, Duration.seconds(5)))
      assert.isTrue(Option.isNone(event.verificationUriComplete))
      assert.strictEqual(DateTime.formatIso(event.expiresAt), "2026-01-02T03:04:05.000Z")
    })
  )

  it.effect("login's events are exactly the LoginOutput union; unknown events fail", () =>
    Effect.gen(function* () {
      const decode = Schema.decodeUnknownEither(CliEvents.LoginOutput)
      assert.isTrue(decode({ event: "logged_out", profile: "p", removed: true, revoked: true })._tag === "Left")
      assert.isTrue(decode({ event: "logged_in", method: "apikey", profile: "p" })._tag === "Right")
      assert.isTrue(decode({ event: "nonsense" })._tag === "Left")
    })
  )

  it.effect("a logged_in event has no token-like field, and its schema could not carry one", () =>
    Effect.gen(function* () {
      const event = new CliEvents.LoggedInEvent({
        method: "chatgpt",
        email: Option.some("dev@example.com"),
        plan: Option.none(),
        accountId: Option.some("acct_1"),
        profile: "default"
      })
      const encoded = yield* Schema.encode(CliEvents.LoggedInEvent)(event)
      for (const key of Object.keys(encoded)) assert.notMatch(key, TOKEN_LIKE)
      for (const schema of [CliEvents.LoggedInEvent, CliEvents.ApiKeyLoggedInEvent, CliEvents.CodeEvent]) {
        for (const key of Object.keys(schema.fields)) assert.notMatch(key, TOKEN_LIKE)
      }
      const withToken = yield* Schema.decodeUnknown(CliEvents.LoggedInEvent)(
        { ...encoded, access_token: "eyJ.secret.sig" },
        { onExcessProperty: "ignore" }
      )
      assert.notInclude(JSON.stringify(yield* Schema.encode(CliEvents.LoggedInEvent)(withToken)), "secret")
    })
  )

  it.effect("token output: the token is Redacted in code and plain on the wire", () =>
    Effect.gen(function* () {
      const line = { access_token: "tok-123", expires_at: null, profile: "default" }
      const output = yield* Schema.decodeUnknown(CliEvents.TokenOutput)(line)
      assert.notInclude(String(output.accessToken), "tok-123")
      assert.strictEqual(Redacted.value(output.accessToken), "tok-123")
      assert.deepStrictEqual(yield* Schema.encode(CliEvents.TokenOutput)(output), line)
    })
  )

  it.effect("status report: optional fields stay absent, present ones round-trip", () =>
    Effect.gen(function* () {
      const lines = [
        { profile: "default", logged_in: false, store: "file /h/auth.json" },
        {
          profile: "default",
          logged_in: true,
          method: "chatgpt" as const,
          email: "dev@example.com",
          plan: null,
          account_id: "acct_1",
          access_token_expires_at: "2026-01-02T03:04:05.000Z",
          store: "file /h/auth.json"
        }
      ]
      for (const line of lines) {
        const report = yield* Schema.decodeUnknown(CliEvents.StatusReport)(line)
        assert.deepStrictEqual(yield* Schema.encode(CliEvents.StatusReport)(report), line)
      }
    })
  )
})

describe("qrCodeText", () => {
  it.effect("stays within 80 columns for a 60- and a 200-character URL, with a light quiet zone", () =>
    Effect.gen(function* () {
      for (const length of [60, 200]) {
        const url = `https://auth.example.com/activate?user_code=ABCD-EFGH&x=${"y".repeat(length)}`.slice(0, length)
        const lines = (yield* qrCodeText(url)).split("\n")
        for (const line of lines) assert.isAtMost([...line].length, 80)
        assert.match(lines[0]!, /^█+$/)
        assert.match(lines.join("\n"), /[█▀▄]/)
      }
    })
  )
})
