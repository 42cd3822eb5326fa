import { HttpClient, HttpClientError } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, DateTime, Duration, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { DeviceCode } from "../src/domain/DeviceCode.js"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import { SignInOrigin } from "../src/domain/StoredAuth.js"
import { TokenSet } from "../src/domain/TokenSet.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import { userAgent } from "../src/layers/httpExchange.js"
import * as Pkce from "../src/services/Pkce.js"
import { AuthorizationGrant } from "../src/services/LoginFlow.js"
import { chatgptClaims, unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { fakeClient, json, type Recorded, type Reply } from "./support/fakeHttp.js"

/** Codex's login flow and issuer client, both over one fake HttpClient answering with `reply`. */
const issuerWith = (reply: (request: Recorded) => Reply | "never", options: CodexIssuer.CodexIssuerOptions = {}) =>
  Effect.gen(function* () {
    const fake = fakeClient(reply)
    const flow = yield* CodexIssuer.makeLoginFlow(options).pipe(
      Effect.provideService(HttpClient.HttpClient, fake.client),
      Effect.provideService(Pkce.Pkce, Pkce.make)
    )
    const client = yield* CodexIssuer.makeClient(options).pipe(
      Effect.provideService(HttpClient.HttpClient, fake.client)
    )
    return { flow, client, requests: fake.requests }
  })

const failure = <A>(exit: Exit.Exit<A, DeviceAuthError>): DeviceAuthError => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a DeviceAuthError failure, got ${String(exit)}`)
}

const code = new DeviceCode({
  deviceCode: Redacted.make("deviceauth_123"),
  userCode: "9F29-9M6JA",
  verificationUri: "https://auth.openai.com/codex/device",
  verificationUriComplete: Option.none(),
  interval: Duration.seconds(5),
  expiresAt: Option.none()
})

const userCodeBody = (extra: Record<string, unknown> = {}) => ({
  device_auth_id: "deviceauth_123",
  user_code: "9F29-9M6JA",
  interval: "5",
  ...extra
})

describe("CodexIssuer.start", () => {
  it.effect("posts the exact client_id body to the usercode endpoint", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() => json(200, userCodeBody()))
      const deviceCode = yield* flow.start
      assert.strictEqual(requests.length, 1)
      assert.strictEqual(requests[0]!.method, "POST")
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/api/accounts/deviceauth/usercode")
      assert.strictEqual(requests[0]!.headers["content-type"], "application/json")
      assert.strictEqual(requests[0]!.body, `{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann"}`)
      assert.strictEqual(Redacted.value(deviceCode.deviceCode), "deviceauth_123")
      assert.strictEqual(deviceCode.userCode, "9F29-9M6JA")
      assert.strictEqual(deviceCode.verificationUri, "https://auth.openai.com/codex/device")
      assert.isTrue(Option.isNone(deviceCode.verificationUriComplete))
      assert.isTrue(Duration.equals(deviceCode.interval, Duration.seconds(5)))
      assert.isTrue(Option.isNone(deviceCode.expiresAt))
      assert.strictEqual(flow.authMode, "chatgpt")
    })
  )

  it.effect("reads the interval as a string, a number, nothing, and never below 1 s", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [unknown, number]> = [
        ["5", 5],
        [5, 5],
        [undefined, 5],
        ["0", 1],
        [12, 12]
      ]
      for (const [interval, seconds] of cases) {
        const { flow } = yield* issuerWith(() => json(200, userCodeBody({ interval })))
        const deviceCode = yield* flow.start
        assert.isTrue(Duration.equals(deviceCode.interval, Duration.seconds(seconds)), `interval ${String(interval)}`)
      }
    })
  )

  it.effect("accepts usercode for user_code and parses expires_at", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() =>
        json(200, { device_auth_id: "d", usercode: "ABCD-EFGH", expires_at: "2026-04-25T12:34:56Z" })
      )
      const deviceCode = yield* flow.start
      assert.strictEqual(deviceCode.userCode, "ABCD-EFGH")
      assert.deepStrictEqual(
        Option.map(deviceCode.expiresAt, DateTime.formatIso),
        Option.some("2026-04-25T12:34:56.000Z")
      )
    })
  )

  it.effect("ignores an unreadable expires_at", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(200, userCodeBody({ expires_at: "soon" })))
      const deviceCode = yield* flow.start
      assert.isTrue(Option.isNone(deviceCode.expiresAt))
    })
  )

  it.effect("fails Malformed when no user code is sent", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(200, { device_auth_id: "d" }))
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Malformed")
    })
  )

  it.effect("maps 404 to NotEnabled naming the issuer", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(404, { error: "not found" }), {
        issuer: "https://login.example.com"
      })
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "NotEnabled")
      assert.include(error.message, "device code login is not enabled")
      assert.include(error.message, "https://login.example.com")
    })
  )

  it.effect("trims trailing slashes from the issuer", () =>
    Effect.gen(function* () {
      const { client, flow, requests } = yield* issuerWith(() => json(200, userCodeBody()), {
        issuer: "https://login.example.com//"
      })
      assert.strictEqual(flow.issuer, "https://login.example.com")
      assert.strictEqual(client.issuer, "https://login.example.com")
      const deviceCode = yield* flow.start
      assert.strictEqual(requests[0]!.url, "https://login.example.com/api/accounts/deviceauth/usercode")
      assert.strictEqual(deviceCode.verificationUri, "https://login.example.com/codex/device")
    })
  )

  it.effect("maps 500 to Rejected with the server's message", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(500, { error: { message: "boom" } }))
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.status, 500)
      assert.include(error.message, "boom")
    })
  )

  it.effect("maps 503 and 429 to Unavailable with Retry-After", () =>
    Effect.gen(function* () {
      for (const status of [503, 429]) {
        const { flow } = yield* issuerWith(() => json(status, { error: "busy" }, { "retry-after": "7" }))
        const error = failure(yield* Effect.exit(flow.start))
        assert.strictEqual(error.reason, "Unavailable")
        assert.strictEqual(error.status, status)
        assert.isTrue(error.retryAfter !== undefined && Duration.equals(error.retryAfter, Duration.seconds(7)))
      }
    })
  )

  it.effect("reads a Retry-After HTTP date against the Clock", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const { flow } = yield* issuerWith(() => json(502, "", { "retry-after": "Thu, 01 Jan 2026 00:01:30 GMT" }))
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.retryAfter && Duration.toMillis(error.retryAfter), 90_000)
    })
  )

  it.effect("maps a 200 that is not JSON or lacks fields to Malformed", () =>
    Effect.gen(function* () {
      const notJson = yield* issuerWith(() => ({ status: 200, body: "<html>" }))
      const error1 = failure(yield* Effect.exit(notJson.flow.start))
      assert.strictEqual(error1.reason, "Malformed")
      const missing = yield* issuerWith(() => json(200, { user_code: "X" }))
      const error2 = failure(yield* Effect.exit(missing.flow.start))
      assert.strictEqual(error2.reason, "Malformed")
      assert.include(error2.message, "device_auth_id")
    })
  )

  it.effect("maps a transport failure to Unavailable", () =>
    Effect.gen(function* () {
      const refused = new Error("fetch failed", { cause: new Error("connect ECONNREFUSED 127.0.0.1:1") })
      const client = HttpClient.make((request) =>
        Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause: refused }))
      )
      const flow = yield* CodexIssuer.makeLoginFlow().pipe(
        Effect.provideService(HttpClient.HttpClient, client),
        Effect.provideService(Pkce.Pkce, Pkce.make)
      )
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "ECONNREFUSED")
    })
  )

  it.effect("gives up on a request that never answers after requestTimeout", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => "never")
      const fiber = yield* Effect.fork(Effect.exit(flow.start))
      yield* TestClock.adjust("29 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 second")
      const error = failure(yield* Fiber.join(fiber))
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "no answer within 30s")
    })
  )

  it.effect("honours a custom requestTimeout", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => "never", { requestTimeout: "5 seconds" })
      const fiber = yield* Effect.fork(Effect.exit(flow.poll(code)))
      yield* TestClock.adjust("5 seconds")
      const error = failure(yield* Fiber.join(fiber))
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.step, "poll")
    })
  )
})

describe("CodexIssuer.poll", () => {
  it.effect("posts device_auth_id and user_code in order", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() =>
        json(403, { error: { code: "deviceauth_authorization_pending" } })
      )
      const result = yield* flow.poll(code)
      assert.strictEqual(result._tag, "Pending")
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/api/accounts/deviceauth/token")
      assert.strictEqual(requests[0]!.body, `{"device_auth_id":"deviceauth_123","user_code":"9F29-9M6JA"}`)
    })
  )

  it.effect("treats 403 and 404 as pending, with or without a body", () =>
    Effect.gen(function* () {
      const replies: ReadonlyArray<Reply> = [
        json(403, { error: { code: "deviceauth_authorization_pending" } }),
        json(404, { error: "deviceauth_authorization_pending" }),
        { status: 404 },
        { status: 403, body: "Forbidden" }
      ]
      for (const reply of replies) {
        const { flow } = yield* issuerWith(() => reply)
        const result = yield* flow.poll(code)
        assert.strictEqual(result._tag, "Pending")
      }
    })
  )

  it.effect("reads slow_down as an object code or a plain string", () =>
    Effect.gen(function* () {
      for (const body of [{ error: { code: "slow_down" } }, { error: "slow_down" }]) {
        const { flow } = yield* issuerWith(() => json(403, body))
        const result = yield* flow.poll(code)
        assert.strictEqual(result._tag, "SlowDown")
      }
    })
  )

  it.effect("returns the authorization code and the server's verifier on 200", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() =>
        json(200, { authorization_code: "ac_1", code_challenge: "ch", code_verifier: "ver_1" })
      )
      const result = yield* flow.poll(code)
      assert.strictEqual(result._tag, "Approved")
      if (result._tag !== "Approved") return
      assert.strictEqual(result.grant._tag, "AuthorizationCode")
      if (result.grant._tag !== "AuthorizationCode") return
      assert.strictEqual(Redacted.value(result.grant.code), "ac_1")
      assert.strictEqual(Redacted.value(result.grant.codeVerifier), "ver_1")
      assert.strictEqual(result.grant.codeChallenge, "ch")
      assert.strictEqual(result.grant.redirectUri, "https://auth.openai.com/deviceauth/callback")
    })
  )

  it.effect("maps access_denied to Denied and expired codes to Expired", () =>
    Effect.gen(function* () {
      const denied = yield* issuerWith(() => json(400, { error: "access_denied" }))
      assert.strictEqual(failure(yield* Effect.exit(denied.flow.poll(code))).reason, "Denied")
      const expired = yield* issuerWith(() => json(400, { error: { code: "expired_token" } }))
      assert.strictEqual(failure(yield* Effect.exit(expired.flow.poll(code))).reason, "Expired")
      const custom = yield* issuerWith(() => json(410, { error: { code: "deviceauth_expired" } }))
      assert.strictEqual(failure(yield* Effect.exit(custom.flow.poll(code))).reason, "Expired")
    })
  )

  it.effect("fails Rejected on 500 with the message", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(500, { error: { message: "boom" } }))
      const error = failure(yield* Effect.exit(flow.poll(code)))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "poll")
      assert.include(error.message, "boom")
    })
  )

  it.effect("fails Malformed on a 200 missing fields", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(200, { authorization_code: "ac_1" }))
      const error = failure(yield* Effect.exit(flow.poll(code)))
      assert.strictEqual(error.reason, "Malformed")
      assert.include(error.message, "code_verifier")
    })
  )
})

/** A readable ChatGPT id_token: codex's `complete` cannot use tokens without one. */
const idToken = unsignedJwt(chatgptClaims({ email: "ada@example.com" }))

/** A code exchange answer codex accepts. */
const exchangeTokens = { id_token: idToken, access_token: "at", refresh_token: "rt" }

/** An approval as codex's poll gives it: the code, the issuer's PKCE pair, and the redirect URI of its issuer. */
const grant = AuthorizationGrant.AuthorizationCode({
  code: Redacted.make("ac_1/+ x"),
  codeVerifier: Redacted.make("ver-_1"),
  codeChallenge: s256Challenge("ver-_1"),
  redirectUri: "https://auth.openai.com/deviceauth/callback"
})

describe("CodexIssuer.complete (the code exchange)", () => {
  it.effect("posts the exact form body and reads the tokens", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() =>
        json(200, { id_token: idToken, access_token: "at", refresh_token: "rt", expires_in: 3600 })
      )
      const { claims, tokens } = yield* flow.complete(grant)
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/oauth/token")
      assert.strictEqual(requests[0]!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(
        requests[0]!.body,
        "grant_type=authorization_code&client_id=app_EMoamEEZ73f0CkXaXp7hrann&code=ac_1%2F%2B+x" +
          "&redirect_uri=https%3A%2F%2Fauth.openai.com%2Fdeviceauth%2Fcallback&code_verifier=ver-_1"
      )
      assert.strictEqual(Redacted.value(tokens.accessToken), "at")
      assert.deepStrictEqual(Option.map(tokens.idToken, Redacted.value), Option.some(idToken))
      assert.deepStrictEqual(claims.email, Option.some("ada@example.com"))
      assert.deepStrictEqual(Option.map(tokens.refreshToken, Redacted.value), Option.some("rt"))
      assert.isTrue(Option.isSome(tokens.expiresIn) && Duration.equals(tokens.expiresIn.value, Duration.hours(1)))
    })
  )

  it.effect("leaves expiresIn empty when expires_in is not a number", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() =>
        json(200, { id_token: idToken, access_token: "at", refresh_token: "rt", expires_in: "3600" })
      )
      const { tokens } = yield* flow.complete(grant)
      assert.isTrue(Option.isNone(tokens.expiresIn))
    })
  )

  it.effect("fails with codex's exchange message on 400", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(400, { error: "invalid_grant", error_description: "bad code" }))
      const error = failure(yield* Effect.exit(flow.complete(grant)))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "exchange")
      assert.strictEqual(error.code, "invalid_grant")
      assert.strictEqual(error.message, "device code exchange failed: token endpoint returned status 400: bad code")
    })
  )

  it.effect("sends nothing when the issuer's verifier does not hash to its challenge", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() => json(200, exchangeTokens))
      const mismatched = AuthorizationGrant.AuthorizationCode({ ...grant, codeChallenge: s256Challenge("another") })
      const error = failure(yield* Effect.exit(flow.complete(mismatched)))
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "poll")
      assert.include(error.message, "the issuer's PKCE values do not match")
      assert.strictEqual(requests.length, 0)
    })
  )

  it.effect("uses the redirect URI the grant carries, as the poll of a custom issuer gives it", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(
        (request) =>
          request.url.endsWith("/deviceauth/token")
            ? json(200, { authorization_code: "ac_1", code_challenge: s256Challenge("ver_1"), code_verifier: "ver_1" })
            : json(200, exchangeTokens),
        { issuer: "https://login.example.com" }
      )
      const approved = yield* flow.poll(code)
      if (approved._tag !== "Approved") return assert.fail("expected an approval")
      yield* flow.complete(approved.grant)
      assert.strictEqual(requests[1]!.url, "https://login.example.com/oauth/token")
      assert.include(requests[1]!.body, "&redirect_uri=https%3A%2F%2Flogin.example.com%2Fdeviceauth%2Fcallback&")
    })
  )

  it.effect("fails Malformed at the exchange when the id_token is unreadable: codex needs its claims", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith(() => json(200, { ...exchangeTokens, id_token: "id" }))
      const error = failure(yield* Effect.exit(flow.complete(grant)))
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "exchange")
      assert.include(error.message, "the id_token is unreadable")
    })
  )

  it.effect("reads the claims of a Tokens grant without a request, and refuses one without an id_token", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() => json(500, {}))
      const tokens = (id: Option.Option<string>) =>
        new TokenSet({
          accessToken: Redacted.make("at"),
          idToken: Option.map(id, Redacted.make),
          refreshToken: Option.some(Redacted.make("rt")),
          expiresIn: Option.none()
        })
      const { claims } = yield* flow.complete(AuthorizationGrant.Tokens({ tokens: tokens(Option.some(idToken)) }))
      assert.deepStrictEqual(claims.email, Option.some("ada@example.com"))
      assert.deepStrictEqual(claims.accountId, Option.some("acct_test"))
      const error = failure(
        yield* Effect.exit(flow.complete(AuthorizationGrant.Tokens({ tokens: tokens(Option.none()) })))
      )
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "exchange")
      assert.include(error.message, "the token response has no id_token")
      assert.strictEqual(requests.length, 0)
    })
  )
})

describe("CodexIssuer: what a sign-in is stored as, and what the app's requests carry", () => {
  it.effect("codex's own issuer and client leave no origin; another issuer or client is remembered", () =>
    Effect.gen(function* () {
      const own = yield* issuerWith(() => json(500, {}))
      assert.strictEqual(own.flow.authMode, "chatgpt")
      assert.isTrue(Option.isNone(own.flow.origin))
      const other = yield* issuerWith(() => json(500, {}), { issuer: "https://login.example.com/", clientId: "app_x" })
      assert.deepStrictEqual(
        other.flow.origin,
        Option.some(
          new SignInOrigin({
            dialect: "codex",
            issuer: "https://login.example.com",
            clientId: "app_x",
            scope: Option.none()
          })
        )
      )
    })
  )

  it.effect("keeps no expiry of its own: codex reads the access token's exp", () =>
    Effect.gen(function* () {
      const { client, flow } = yield* issuerWith(() => json(500, {}))
      const now = DateTime.unsafeMake("2026-01-01T00:00:00Z")
      assert.isTrue(Option.isNone(flow.storedExpiry(Option.some(Duration.hours(1)), now)))
      assert.isTrue(Option.isNone(client.storedExpiry(Option.some(Duration.hours(1)), now)))
    })
  )

  it.effect("names the workspace in ChatGPT-Account-Id when the sign-in has an account id, and nothing else", () =>
    Effect.gen(function* () {
      const { client } = yield* issuerWith(() => json(500, {}))
      assert.deepStrictEqual(client.requestHeaders(Option.some("acct_123")), { "ChatGPT-Account-Id": "acct_123" })
      assert.deepStrictEqual(client.requestHeaders(Option.none()), {})
    })
  )
})

describe("CodexIssuer.refresh", () => {
  it.effect("posts the exact JSON body and returns only the tokens present", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* issuerWith(() => json(200, { access_token: "at2", refresh_token: "rt2" }))
      const refreshed = yield* client.refresh(Redacted.make("rt1"))
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/oauth/token")
      assert.strictEqual(requests[0]!.headers["content-type"], "application/json")
      assert.strictEqual(
        requests[0]!.body,
        `{"client_id":"app_EMoamEEZ73f0CkXaXp7hrann","grant_type":"refresh_token",` +
          `"refresh_reason":"proactive_expiry","refresh_token":"rt1"}`
      )
      yield* client.refresh(Redacted.make("rt2"), "unauthorized_recovery")
      assert.include(requests[1]!.body, `"refresh_reason":"unauthorized_recovery"`)
      assert.deepStrictEqual(Option.map(refreshed.accessToken, Redacted.value), Option.some("at2"))
      assert.deepStrictEqual(Option.map(refreshed.refreshToken, Redacted.value), Option.some("rt2"))
      assert.isTrue(Option.isNone(refreshed.idToken))
      assert.isTrue(Option.isNone(refreshed.expiresIn))
    })
  )

  it.effect("reads expires_in when it is a number of seconds, and only then", () =>
    Effect.gen(function* () {
      const numeric = yield* issuerWith(() => json(200, { access_token: "at2", expires_in: 3600 }))
      const refreshed = yield* numeric.client.refresh(Redacted.make("rt1"))
      assert.deepStrictEqual(refreshed.expiresIn, Option.some(Duration.seconds(3600)))
      const text = yield* issuerWith(() => json(200, { access_token: "at2", expires_in: "3600" }))
      assert.isTrue(Option.isNone((yield* text.client.refresh(Redacted.make("rt1"))).expiresIn))
      const negative = yield* issuerWith(() => json(200, { access_token: "at2", expires_in: -1 }))
      assert.isTrue(Option.isNone((yield* negative.client.refresh(Redacted.make("rt1"))).expiresIn))
    })
  )

  it.effect("honours CODEX_REFRESH_TOKEN_URL_OVERRIDE", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* issuerWith(() => json(200, { access_token: "at2" })).pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/refresh"]]))
        )
      )
      yield* client.refresh(Redacted.make("rt1"))
      assert.strictEqual(requests[0]!.url, "http://127.0.0.1:9/refresh")
    })
  )

  it.effect("maps 401 refresh_token_reused to Rejected with the code", () =>
    Effect.gen(function* () {
      const { client } = yield* issuerWith(() =>
        json(401, { error: { code: "refresh_token_reused", message: "Your refresh token has already been used" } })
      )
      const error = failure(yield* Effect.exit(client.refresh(Redacted.make("rt1"))))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.status, 401)
      assert.strictEqual(error.code, "refresh_token_reused")
      assert.strictEqual(error.step, "refresh")
      assert.notInclude(error.message, "rt1")
    })
  )
})

describe("CodexIssuer.revoke", () => {
  it.effect("posts the exact JSON body to the revoke endpoint, or the override", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* issuerWith(() => ({ status: 200 }))
      yield* client.revoke(Redacted.make("rt1"))
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/oauth/revoke")
      assert.strictEqual(
        requests[0]!.body,
        `{"token":"rt1","token_type_hint":"refresh_token","client_id":"app_EMoamEEZ73f0CkXaXp7hrann"}`
      )
      const overridden = yield* issuerWith(() => ({ status: 200 })).pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(new Map([["CODEX_REVOKE_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/revoke"]]))
        )
      )
      yield* overridden.client.revoke(Redacted.make("rt1"))
      assert.strictEqual(overridden.requests[0]!.url, "http://127.0.0.1:9/revoke")
    })
  )

  it.effect("fails Rejected on non-2xx and Unavailable after 10 s", () =>
    Effect.gen(function* () {
      const rejected = yield* issuerWith(() => json(400, { error: "invalid_request" }))
      const error = failure(yield* Effect.exit(rejected.client.revoke(Redacted.make("rt1"))))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "revoke")
      const silent = yield* issuerWith(() => "never")
      const fiber = yield* Effect.fork(Effect.exit(silent.client.revoke(Redacted.make("rt1"))))
      yield* TestClock.adjust("10 seconds")
      const timedOut = failure(yield* Fiber.join(fiber))
      assert.strictEqual(timedOut.reason, "Unavailable")
      assert.include(timedOut.message, "no answer within 10s")
    })
  )
})

describe("CodexIssuer: hostile answers and codex parity", () => {
  it.effect("refuses an exchange answer with a blank or spaced token, naming the field and never the value", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        ["access_token", " "],
        ["access_token", ""],
        ["refresh_token", "rt secret"],
        ["id_token", "id\u0000secret"],
        ["access_token", "at\nsecret"]
      ]
      for (const [field, value] of cases) {
        const { flow } = yield* issuerWith(() => json(200, { ...exchangeTokens, [field]: value }))
        const error = failure(yield* Effect.exit(flow.complete(grant)))
        assert.strictEqual(error.reason, "Malformed", `${field} = ${JSON.stringify(value)}`)
        assert.include(error.message, field)
        assert.notInclude(error.message, "secret")
      }
    })
  )

  it.effect("refuses a refresh answer with a blank token, and reads null as absent", () =>
    Effect.gen(function* () {
      for (const body of [{ access_token: "\t" }, { access_token: "at2", refresh_token: "" }]) {
        const { client } = yield* issuerWith(() => json(200, body))
        const error = failure(yield* Effect.exit(client.refresh(Redacted.make("rt1"))))
        assert.strictEqual(error.reason, "Malformed")
        assert.include(error.message, Object.keys(body).at(-1)!)
      }
      const { client } = yield* issuerWith(() =>
        json(200, { access_token: "at2", refresh_token: null, id_token: null })
      )
      const refreshed = yield* client.refresh(Redacted.make("rt1"))
      assert.deepStrictEqual(Option.map(refreshed.accessToken, Redacted.value), Option.some("at2"))
      assert.isTrue(Option.isNone(refreshed.refreshToken))
      assert.isTrue(Option.isNone(refreshed.idToken))
    })
  )

  it.effect("refuses a blank device_auth_id, authorization code or verifier, and an absurd expires_in", () =>
    Effect.gen(function* () {
      const start = yield* issuerWith(() => json(200, userCodeBody({ device_auth_id: "\u3000" })))
      const startError = failure(yield* Effect.exit(start.flow.start))
      assert.strictEqual(startError.reason, "Malformed")
      assert.include(startError.message, "device_auth_id")
      const approved = { authorization_code: "ac_1", code_challenge: "ch", code_verifier: "ver_1" }
      for (const field of ["authorization_code", "code_verifier", "code_challenge"]) {
        const { flow } = yield* issuerWith(() => json(200, { ...approved, [field]: " " }))
        const error = failure(yield* Effect.exit(flow.poll(code)))
        assert.strictEqual(error.reason, "Malformed")
        assert.include(error.message, field)
      }
      for (const expiresIn of [1e300, 1e13]) {
        const { flow } = yield* issuerWith(() => json(200, { ...exchangeTokens, expires_in: expiresIn }))
        assert.isTrue(Option.isNone((yield* flow.complete(grant)).tokens.expiresIn))
      }
    })
  )

  it.effect(
    "sends codex's headers: accept and gzip on every call, originator and a User-Agent on refresh and revoke",
    () =>
      Effect.gen(function* () {
        const { flow, client, requests } = yield* issuerWith((request) =>
          request.url.endsWith("/usercode")
            ? json(200, userCodeBody())
            : request.url.endsWith("/deviceauth/token")
              ? json(403, { error: { code: "deviceauth_authorization_pending" } })
              : request.url.endsWith("/oauth/token")
                ? json(200, exchangeTokens)
                : { status: 200 }
        )
        yield* flow.start
        yield* flow.poll(code)
        yield* flow.complete(grant)
        yield* client.refresh(Redacted.make("rt1"))
        yield* client.revoke(Redacted.make("rt1"))
        assert.deepStrictEqual(
          requests.map((request) => new URL(request.url).pathname),
          [
            "/api/accounts/deviceauth/usercode",
            "/api/accounts/deviceauth/token",
            "/oauth/token",
            "/oauth/token",
            "/oauth/revoke"
          ]
        )
        const [usercode, poll, exchange, refresh, revoke] = requests
        for (const request of [usercode!, poll!, exchange!]) {
          assert.isUndefined(request.headers["user-agent"], request.url)
          assert.isUndefined(request.headers["originator"], request.url)
        }
        for (const request of [refresh!, revoke!]) {
          assert.strictEqual(request.headers["user-agent"], userAgent, request.url)
          assert.strictEqual(request.headers["originator"], "codex_cli_rs", request.url)
        }
        for (const request of requests) {
          assert.strictEqual(request.headers["accept"], "*/*", request.url)
          assert.strictEqual(request.headers["accept-encoding"], "gzip", request.url)
        }
      })
  )

  it.effect("derives the revoke URL from CODEX_REFRESH_TOKEN_URL_OVERRIDE when only that is set", () =>
    Effect.gen(function* () {
      const onlyRefresh = yield* issuerWith(() => ({ status: 200 })).pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([["CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/gateway/oauth/token?tenant=a"]])
          )
        )
      )
      yield* onlyRefresh.client.revoke(Redacted.make("rt1"))
      assert.strictEqual(onlyRefresh.requests[0]!.url, "http://127.0.0.1:9/oauth/revoke")
      const both = yield* issuerWith(() => ({ status: 200 })).pipe(
        Effect.withConfigProvider(
          ConfigProvider.fromMap(
            new Map([
              ["CODEX_REFRESH_TOKEN_URL_OVERRIDE", "http://127.0.0.1:9/oauth/token"],
              ["CODEX_REVOKE_TOKEN_URL_OVERRIDE", "http://127.0.0.1:8/custom/revoke"]
            ])
          )
        )
      )
      yield* both.client.revoke(Redacted.make("rt1"))
      assert.strictEqual(both.requests[0]!.url, "http://127.0.0.1:8/custom/revoke")
    })
  )

  it.effect("revokes an access token with token_type_hint access_token", () =>
    Effect.gen(function* () {
      const { client, requests } = yield* issuerWith(() => ({ status: 200 }))
      yield* client.revoke(Redacted.make("at1"), "access_token")
      assert.strictEqual(
        requests[0]!.body,
        `{"token":"at1","token_type_hint":"access_token","client_id":"app_EMoamEEZ73f0CkXaXp7hrann"}`
      )
    })
  )

  it.effect("reads refresh error codes in any case; a 400 refresh_token_* is final like a 401", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [number, unknown, Option.Option<string>]> = [
        [401, { error: { code: "REFRESH_TOKEN_REUSED" } }, Option.some("Reused")],
        [400, { error: { code: "refresh_token_reused" } }, Option.some("Reused")],
        [400, { error: "Refresh_Token_Expired" }, Option.some("Expired")],
        [400, { code: "refresh_token_invalidated" }, Option.some("Invalidated")],
        [401, { error: "something_else" }, Option.some("Other")],
        [400, { error: "invalid_request" }, Option.none()],
        [500, { error: { code: "refresh_token_reused" } }, Option.none()],
        [503, { error: { code: "refresh_token_reused" } }, Option.none()]
      ]
      for (const [status, body, expected] of cases) {
        const { client } = yield* issuerWith(() => json(status, body))
        const error = failure(yield* Effect.exit(client.refresh(Redacted.make("rt1"))))
        assert.deepStrictEqual(client.refreshFailure(error), expected, `${status} ${JSON.stringify(body)}`)
        assert.strictEqual(
          client.refreshSpentElsewhere(error),
          Option.contains(expected, "Reused"),
          `${status} ${JSON.stringify(body)}`
        )
      }
    })
  )
})

describe("CodexIssuer: the browser login's API-key token exchange", () => {
  it.effect("posts codex's form (RFC 8693, in codex's order) with the sign-in headers and reads the key", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith(() => json(200, { access_token: "sk-key-1", token_type: "Bearer" }))
      assert.isTrue(Option.isSome(flow.exchangeApiKey))
      const exchange = Option.getOrThrow(flow.exchangeApiKey)
      const key = yield* exchange(Redacted.make("id.tok/en+"))
      assert.strictEqual(Redacted.value(key), "sk-key-1")
      assert.strictEqual(requests[0]!.url, "https://auth.openai.com/oauth/token")
      assert.strictEqual(requests[0]!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(requests[0]!.headers.accept, "*/*")
      assert.isUndefined(requests[0]!.headers.originator)
      assert.strictEqual(
        requests[0]!.body,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Atoken-exchange&client_id=app_EMoamEEZ73f0CkXaXp7hrann" +
          "&requested_token=openai-api-key&subject_token=id.tok%2Fen%2B" +
          "&subject_token_type=urn%3Aietf%3Aparams%3Aoauth%3Atoken-type%3Aid_token"
      )
    })
  )

  it.effect("a refusal or an answer without a key fails (the login then stores OPENAI_API_KEY null)", () =>
    Effect.gen(function* () {
      for (const answer of [json(400, { error: "invalid_grant" }), json(200, { token_type: "Bearer" })]) {
        const { flow } = yield* issuerWith(() => answer)
        const error = failure(yield* Effect.exit(Option.getOrThrow(flow.exchangeApiKey)(Redacted.make("id"))))
        assert.include(["Rejected", "Malformed"], error.reason)
      }
    })
  )
})
