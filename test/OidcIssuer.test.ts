import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { DeviceCode } from "../src/domain/DeviceCode.js"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { emptyClaims } from "../src/domain/IdTokenClaims.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import { SignInOrigin } from "../src/domain/StoredAuth.js"
import { TokenSet } from "../src/domain/TokenSet.js"
import { userAgent } from "../src/layers/httpExchange.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import { AuthorizationGrant } from "../src/services/LoginFlow.js"
import { unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { fakeClient, json, type Recorded, type Reply } from "./support/fakeHttp.js"

const ISSUER = "https://id.example.com"
const OPENID = `${ISSUER}/.well-known/openid-configuration`
const OAUTH = `${ISSUER}/.well-known/oauth-authorization-server`
const DEVICE = `${ISSUER}/oauth/device`
const TOKEN = `${ISSUER}/oauth/token`
const REVOKE = `${ISSUER}/oauth/revoke`

const discovery = (extra: Record<string, unknown> = {}) => ({
  issuer: ISSUER,
  device_authorization_endpoint: DEVICE,
  token_endpoint: TOKEN,
  revocation_endpoint: REVOKE,
  ...extra
})

type Route = (request: Recorded) => Reply | "never"

/**
 * A fake provider: discovery at the openid-configuration URL unless overridden, then per-endpoint answers; the login
 * flow and the issuer client of one client id over it.
 */
const issuerWith = (routes: Partial<Record<string, Route>>, options: Partial<OidcIssuer.OidcIssuerOptions> = {}) =>
  Effect.gen(function* () {
    const fake = fakeClient((request) => {
      const route = routes[request.url] ?? (request.url === OPENID ? () => json(200, discovery()) : undefined)
      return route ? route(request) : json(404, { error: "not_found" })
    })
    const all = { issuer: ISSUER, clientId: "cli-123", ...options }
    const flow = yield* OidcIssuer.makeLoginFlow(all).pipe(
      Effect.provideService(HttpClient.HttpClient, fake.client),
      Effect.provideService(Pkce.Pkce, Pkce.make)
    )
    const client = yield* OidcIssuer.makeClient(all).pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
    const to = (url: string) => fake.requests.filter((request) => request.url === url)
    return { flow, client, requests: fake.requests, to }
  })

const failure = <A>(exit: Exit.Exit<A, DeviceAuthError>): DeviceAuthError => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a DeviceAuthError failure, got ${String(exit)}`)
}

const code = new DeviceCode({
  deviceCode: Redacted.make("dc-secret-1"),
  userCode: "WDJB-MJHT",
  verificationUri: `${ISSUER}/device`,
  verificationUriComplete: Option.none(),
  interval: Duration.seconds(5),
  expiresAt: Option.none()
})

const deviceBody = (extra: Record<string, unknown> = {}) => ({
  device_code: "dc-secret-1",
  user_code: "WDJB-MJHT",
  verification_uri: `${ISSUER}/device`,
  expires_in: 600,
  ...extra
})

const pollWith = (reply: Reply) => issuerWith({ [TOKEN]: () => reply })

describe("OidcIssuer discovery", () => {
  it.effect("reads the endpoints from openid-configuration, once for several calls", () =>
    Effect.gen(function* () {
      const { flow, requests, to } = yield* issuerWith({
        [DEVICE]: () => json(200, deviceBody()),
        [TOKEN]: () => json(400, { error: "authorization_pending" })
      })
      assert.strictEqual(requests.length, 0)
      yield* flow.start
      yield* flow.poll(code)
      yield* flow.poll(code)
      assert.strictEqual(to(OPENID).length, 1)
      assert.strictEqual(to(OPENID)[0]!.method, "GET")
      assert.strictEqual(to(DEVICE).length, 1)
      assert.strictEqual(to(TOKEN).length, 2)
      assert.strictEqual(flow.authMode, "oidc")
      assert.deepStrictEqual(
        Option.flatMap(flow.origin, (origin) => origin.scope),
        Option.some(OidcIssuer.DEFAULT_SCOPE)
      )
    })
  )

  it.effect("falls back to oauth-authorization-server on 404", () =>
    Effect.gen(function* () {
      const { flow, to } = yield* issuerWith({
        [OPENID]: () => json(404, "Not Found"),
        [OAUTH]: () => json(200, discovery()),
        [DEVICE]: () => json(200, deviceBody())
      })
      const deviceCode = yield* flow.start
      assert.strictEqual(deviceCode.userCode, "WDJB-MJHT")
      assert.strictEqual(to(OPENID).length, 1)
      assert.strictEqual(to(OAUTH).length, 1)
    })
  )

  it.effect("fails Misconfigured when the document names another issuer, trailing slashes aside", () =>
    Effect.gen(function* () {
      const same = yield* issuerWith(
        { [OPENID]: () => json(200, discovery({ issuer: `${ISSUER}/` })) },
        {
          issuer: `${ISSUER}//`
        }
      )
      assert.strictEqual(same.flow.issuer, ISSUER)
      assert.strictEqual(same.client.issuer, ISSUER)
      yield* same.flow.start.pipe(Effect.ignore)
      assert.strictEqual(same.to(DEVICE).length, 1)

      const { flow } = yield* issuerWith({
        [OPENID]: () => json(200, discovery({ issuer: "https://evil.example.com" }))
      })
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Misconfigured")
      assert.strictEqual(error.step, "discovery")
      assert.include(error.message, `discovery says its issuer is https://evil.example.com, not ${ISSUER}`)
    })
  )

  it.effect("fails Misconfigured when there is no device_authorization_endpoint", () =>
    Effect.gen(function* () {
      const { flow, to } = yield* issuerWith({
        [OPENID]: () => json(200, discovery({ device_authorization_endpoint: undefined }))
      })
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Misconfigured")
      assert.include(
        error.message,
        "its discovery document has no device_authorization_endpoint (the provider does not support RFC 8628 device login, or it is not enabled)"
      )
      assert.strictEqual(to(DEVICE).length, 0)
    })
  )

  it.effect("classifies discovery failures and retries discovery after one", () =>
    Effect.gen(function* () {
      let first = true
      const { flow, to } = yield* issuerWith({
        [OPENID]: () => {
          const reply = first ? json(503, { error: "busy" }) : json(200, discovery())
          first = false
          return reply
        },
        [DEVICE]: () => json(200, deviceBody())
      })
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.step, "discovery")
      yield* flow.start
      assert.strictEqual(to(OPENID).length, 2)

      const rejected = yield* issuerWith({ [OPENID]: () => json(500, { error: "boom" }) })
      assert.strictEqual(failure(yield* Effect.exit(rejected.flow.start)).reason, "Rejected")
      const malformed = yield* issuerWith({ [OPENID]: () => ({ status: 200, body: "<html>" }) })
      assert.strictEqual(failure(yield* Effect.exit(malformed.flow.start)).reason, "Malformed")
      const missing = yield* issuerWith({ [OPENID]: () => json(200, { issuer: ISSUER }) })
      const noToken = failure(yield* Effect.exit(missing.flow.start))
      assert.strictEqual(noToken.reason, "Malformed")
      assert.include(noToken.message, "token_endpoint")
      const nowhere = yield* issuerWith({ [OPENID]: () => json(404, {}) })
      assert.strictEqual(failure(yield* Effect.exit(nowhere.flow.start)).reason, "Misconfigured")
    })
  )
})

describe("OidcIssuer.start", () => {
  it.effect("posts client_id and scope as a form and reads the device code", () =>
    Effect.gen(function* () {
      yield* TestClock.setTime(Date.parse("2026-03-01T10:00:00Z"))
      const { flow, to } = yield* issuerWith(
        {
          [DEVICE]: () => json(200, deviceBody({ verification_uri_complete: `${ISSUER}/device?user_code=WDJB-MJHT` }))
        },
        { scope: "openid offline_access" }
      )
      const deviceCode = yield* flow.start
      const [request] = to(DEVICE)
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(request!.body, "client_id=cli-123&scope=openid+offline_access")
      assert.strictEqual(Redacted.value(deviceCode.deviceCode), "dc-secret-1")
      assert.strictEqual(deviceCode.userCode, "WDJB-MJHT")
      assert.strictEqual(deviceCode.verificationUri, `${ISSUER}/device`)
      assert.deepStrictEqual(deviceCode.verificationUriComplete, Option.some(`${ISSUER}/device?user_code=WDJB-MJHT`))
      assert.isTrue(Duration.equals(deviceCode.interval, Duration.seconds(5)))
      assert.deepStrictEqual(
        Option.map(deviceCode.expiresAt, DateTime.formatIso),
        Option.some("2026-03-01T10:10:00.000Z")
      )
    })
  )

  it.effect("sends the default scope, reads verification_url and a given interval, tolerates no expires_in", () =>
    Effect.gen(function* () {
      const { flow, to } = yield* issuerWith({
        [DEVICE]: () =>
          json(200, {
            device_code: "dc",
            user_code: "U",
            verification_url: "https://www.google.com/device",
            interval: 7
          })
      })
      const deviceCode = yield* flow.start
      assert.strictEqual(to(DEVICE)[0]!.body, "client_id=cli-123&scope=openid+profile+email+offline_access")
      assert.strictEqual(deviceCode.verificationUri, "https://www.google.com/device")
      assert.isTrue(Duration.equals(deviceCode.interval, Duration.seconds(7)))
      assert.isTrue(Option.isNone(deviceCode.expiresAt))
      assert.isTrue(Option.isNone(deviceCode.verificationUriComplete))
    })
  )

  it.effect("fails Misconfigured naming the client id on invalid_client, and the scope on invalid_scope", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith({
        [DEVICE]: () => json(401, { error: "invalid_client", error_description: "Client authentication failed" })
      })
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.reason, "Misconfigured")
      assert.strictEqual(error.code, "invalid_client")
      assert.include(
        error.message,
        `the provider does not accept client id "cli-123" for device login: Client authentication failed`
      )
      const scoped = yield* issuerWith(
        { [DEVICE]: () => json(400, { error: "invalid_scope" }) },
        { scope: "openid admin" }
      )
      const scopeError = failure(yield* Effect.exit(scoped.flow.start))
      assert.strictEqual(scopeError.reason, "Misconfigured")
      assert.include(scopeError.message, `"openid admin"`)
    })
  )

  it.effect("maps 503 to Unavailable, other refusals to Rejected and a bad body to Malformed", () =>
    Effect.gen(function* () {
      const busy = yield* issuerWith({ [DEVICE]: () => json(503, {}, { "retry-after": "3" }) })
      const error = failure(yield* Effect.exit(busy.flow.start))
      assert.strictEqual(error.reason, "Unavailable")
      assert.isTrue(error.retryAfter !== undefined && Duration.equals(error.retryAfter, Duration.seconds(3)))
      const refused = yield* issuerWith({
        [DEVICE]: () => json(400, { error: "invalid_request", error_description: "bad" })
      })
      const rejected = failure(yield* Effect.exit(refused.flow.start))
      assert.strictEqual(rejected.reason, "Rejected")
      assert.strictEqual(rejected.code, "invalid_request")
      const odd = yield* issuerWith({ [DEVICE]: () => json(200, { device_code: "dc-secret-1", user_code: "U" }) })
      const malformed = failure(yield* Effect.exit(odd.flow.start))
      assert.strictEqual(malformed.reason, "Malformed")
      assert.notInclude(malformed.message, "dc-secret-1")
    })
  )
})

describe("OidcIssuer.poll", () => {
  it.effect("posts the device code grant as a form", () =>
    Effect.gen(function* () {
      const { flow, to } = yield* pollWith(json(400, { error: "authorization_pending" }))
      const result = yield* flow.poll(code)
      assert.strictEqual(result._tag, "Pending")
      assert.strictEqual(to(TOKEN)[0]!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(
        to(TOKEN)[0]!.body,
        "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&device_code=dc-secret-1&client_id=cli-123"
      )
    })
  )

  it.effect("reads slow_down, access_denied and expired_token", () =>
    Effect.gen(function* () {
      const slow = yield* pollWith(json(400, { error: "slow_down" }))
      assert.strictEqual((yield* slow.flow.poll(code))._tag, "SlowDown")
      const denied = yield* pollWith(json(400, { error: "access_denied", error_description: "The user said no" }))
      const deniedError = failure(yield* Effect.exit(denied.flow.poll(code)))
      assert.strictEqual(deniedError.reason, "Denied")
      assert.include(deniedError.message, "The user said no")
      const expired = yield* pollWith(json(400, { error: "expired_token" }))
      assert.strictEqual(failure(yield* Effect.exit(expired.flow.poll(code))).reason, "Expired")
    })
  )

  it.effect("fails Rejected with the code and description of an unknown error", () =>
    Effect.gen(function* () {
      const { flow } = yield* pollWith(json(400, { error: "invalid_grant", error_description: "code is unknown" }))
      const error = failure(yield* Effect.exit(flow.poll(code)))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.code, "invalid_grant")
      assert.strictEqual(error.status, 400)
      assert.include(error.message, "invalid_grant: code is unknown")
      assert.notInclude(error.message, "dc-secret-1")
    })
  )

  it.effect("maps 429 and 503 to Unavailable", () =>
    Effect.gen(function* () {
      for (const status of [429, 503]) {
        const { flow } = yield* pollWith(json(status, { error: "slow" }))
        assert.strictEqual(failure(yield* Effect.exit(flow.poll(code))).reason, "Unavailable")
      }
    })
  )

  it.effect("returns the tokens on 200 and never redeems the same code twice", () =>
    Effect.gen(function* () {
      const { flow, to } = yield* pollWith(
        json(200, {
          access_token: "at-1",
          token_type: "Bearer",
          expires_in: 3600,
          refresh_token: "rt-1",
          id_token: "id-1",
          scope: "openid"
        })
      )
      const result = yield* flow.poll(code)
      assert.strictEqual(result._tag, "Approved")
      if (result._tag !== "Approved" || result.grant._tag !== "Tokens") return assert.fail("expected a Tokens grant")
      const tokens = result.grant.tokens
      assert.strictEqual(Redacted.value(tokens.accessToken), "at-1")
      assert.deepStrictEqual(Option.map(tokens.refreshToken, Redacted.value), Option.some("rt-1"))
      assert.deepStrictEqual(Option.map(tokens.idToken, Redacted.value), Option.some("id-1"))
      assert.isTrue(Option.isSome(tokens.expiresIn) && Duration.equals(tokens.expiresIn.value, Duration.hours(1)))

      const again = failure(yield* Effect.exit(flow.poll(code)))
      assert.strictEqual(again.reason, "Rejected")
      assert.include(again.message, "this device code was already redeemed")
      assert.strictEqual(to(TOKEN).length, 1)
    })
  )

  it.effect("reads a token response with only an access token", () =>
    Effect.gen(function* () {
      const { flow } = yield* pollWith(json(200, { access_token: "at-1" }))
      const result = yield* flow.poll(code)
      if (result._tag !== "Approved" || result.grant._tag !== "Tokens") return assert.fail("expected a Tokens grant")
      assert.isTrue(Option.isNone(result.grant.tokens.refreshToken))
      assert.isTrue(Option.isNone(result.grant.tokens.idToken))
      assert.isTrue(Option.isNone(result.grant.tokens.expiresIn))
    })
  )
})

/** An authorization code with its PKCE pair, as a browser login (not a device login) would give it. */
const codeGrant = AuthorizationGrant.AuthorizationCode({
  code: Redacted.make("ac-1/+ x"),
  codeVerifier: Redacted.make("ver-_1"),
  codeChallenge: s256Challenge("ver-_1"),
  redirectUri: "http://127.0.0.1:1455/auth/callback"
})

const idToken = unsignedJwt({ sub: "user-1", email: "ada@example.com", name: "Ada" })

describe("OidcIssuer.complete", () => {
  it.effect("exchanges an authorization code with the RFC 6749 §4.1.3 form and reads the tokens and claims", () =>
    Effect.gen(function* () {
      const { flow, requests, to } = yield* issuerWith({
        [TOKEN]: () =>
          json(200, {
            access_token: "at-1",
            token_type: "Bearer",
            expires_in: 3600,
            refresh_token: "rt-1",
            id_token: idToken
          })
      })
      const { claims, tokens } = yield* flow.complete(codeGrant)
      assert.deepStrictEqual(
        requests.map((request) => request.url),
        [OPENID, TOKEN]
      )
      const [request] = to(TOKEN)
      assert.strictEqual(request!.method, "POST")
      assert.strictEqual(request!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(request!.headers["accept"], "application/json")
      assert.strictEqual(
        request!.body,
        "grant_type=authorization_code&code=ac-1%2F%2B+x&redirect_uri=http%3A%2F%2F127.0.0.1%3A1455%2Fauth%2Fcallback" +
          "&client_id=cli-123&code_verifier=ver-_1"
      )
      assert.deepStrictEqual(
        [...new URLSearchParams(request!.body).keys()],
        ["grant_type", "code", "redirect_uri", "client_id", "code_verifier"]
      )
      assert.strictEqual(Redacted.value(tokens.accessToken), "at-1")
      assert.deepStrictEqual(Option.map(tokens.refreshToken, Redacted.value), Option.some("rt-1"))
      assert.deepStrictEqual(Option.map(tokens.idToken, Redacted.value), Option.some(idToken))
      assert.deepStrictEqual(tokens.expiresIn, Option.some(Duration.hours(1)))
      assert.deepStrictEqual(claims.email, Option.some("ada@example.com"))
      assert.deepStrictEqual(claims.name, Option.some("Ada"))
      assert.deepStrictEqual(claims.subject, Option.some("user-1"))
    })
  )

  it.effect("fails Rejected at the exchange on an error answer, and Malformed on a token answer it cannot use", () =>
    Effect.gen(function* () {
      const refused = yield* issuerWith({
        [TOKEN]: () => json(400, { error: "invalid_grant", error_description: "code already used" })
      })
      const error = failure(yield* Effect.exit(refused.flow.complete(codeGrant)))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "exchange")
      assert.strictEqual(error.code, "invalid_grant")
      assert.include(error.message, "code already used")
      assert.notInclude(error.message, "ac-1")
      assert.notInclude(error.message, "ver-_1")
      const blank = yield* issuerWith({ [TOKEN]: () => json(200, { access_token: " " }) })
      const malformed = failure(yield* Effect.exit(blank.flow.complete(codeGrant)))
      assert.strictEqual(malformed.reason, "Malformed")
      assert.strictEqual(malformed.step, "exchange")
      assert.include(malformed.message, "access_token")
    })
  )

  it.effect("sends nothing, not even discovery, when the verifier does not hash to the challenge", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith({ [TOKEN]: () => json(200, { access_token: "at-1" }) })
      const mismatched = AuthorizationGrant.AuthorizationCode({ ...codeGrant, codeChallenge: s256Challenge("other") })
      const error = failure(yield* Effect.exit(flow.complete(mismatched)))
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "poll")
      assert.include(error.message, "the issuer's PKCE values do not match")
      assert.strictEqual(requests.length, 0)
    })
  )

  it.effect("reads a Tokens grant's claims without a request: empty when its id_token is missing or unreadable", () =>
    Effect.gen(function* () {
      const { flow, requests } = yield* issuerWith({})
      const complete = (id: Option.Option<string>) =>
        flow.complete(
          AuthorizationGrant.Tokens({
            tokens: new TokenSet({
              accessToken: Redacted.make("at-1"),
              idToken: Option.map(id, Redacted.make),
              refreshToken: Option.none(),
              expiresIn: Option.none()
            })
          })
        )
      assert.deepStrictEqual((yield* complete(Option.some(idToken))).claims.email, Option.some("ada@example.com"))
      assert.deepStrictEqual((yield* complete(Option.none())).claims, emptyClaims)
      assert.deepStrictEqual((yield* complete(Option.some("id-1"))).claims, emptyClaims)
      assert.strictEqual(requests.length, 0)
    })
  )
})

describe("OidcIssuer: what a sign-in is stored as, and what the app's requests carry", () => {
  it.effect("an oidc sign-in that remembers its provider, expiring expires_in after issue, with no extra headers", () =>
    Effect.gen(function* () {
      const { client, flow } = yield* issuerWith({}, { scope: "openid offline_access" })
      assert.strictEqual(flow.authMode, "oidc")
      assert.deepStrictEqual(
        flow.origin,
        Option.some(
          new SignInOrigin({
            dialect: "rfc8628",
            issuer: ISSUER,
            clientId: "cli-123",
            scope: Option.some("openid offline_access")
          })
        )
      )
      const now = DateTime.unsafeMake("2026-01-01T00:00:00Z")
      for (const storedExpiry of [flow.storedExpiry, client.storedExpiry]) {
        assert.deepStrictEqual(
          Option.map(storedExpiry(Option.some(Duration.hours(1)), now), DateTime.formatIso),
          Option.some("2026-01-01T01:00:00.000Z")
        )
        assert.isTrue(Option.isNone(storedExpiry(Option.none(), now)))
      }
      assert.deepStrictEqual(client.requestHeaders(Option.some("acct_123")), {})
    })
  )
})

describe("OidcIssuer.refresh", () => {
  it.effect("posts the refresh grant as a form, without scope, and returns only the tokens present", () =>
    Effect.gen(function* () {
      const { client, to } = yield* issuerWith({ [TOKEN]: () => json(200, { access_token: "at-2" }) })
      const refreshed = yield* client.refresh(Redacted.make("rt-1"))
      assert.strictEqual(to(TOKEN)[0]!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(to(TOKEN)[0]!.body, "grant_type=refresh_token&refresh_token=rt-1&client_id=cli-123")
      assert.deepStrictEqual(Option.map(refreshed.accessToken, Redacted.value), Option.some("at-2"))
      assert.isTrue(Option.isNone(refreshed.refreshToken))
      assert.isTrue(Option.isNone(refreshed.idToken))
      assert.isTrue(Option.isNone(refreshed.expiresIn))
    })
  )

  it.effect("reads expires_in of the refresh answer", () =>
    Effect.gen(function* () {
      const { client } = yield* issuerWith({
        [TOKEN]: () => json(200, { access_token: "at-2", refresh_token: "rt-2", expires_in: 300 })
      })
      const refreshed = yield* client.refresh(Redacted.make("rt-1"))
      assert.deepStrictEqual(refreshed.expiresIn, Option.some(Duration.seconds(300)))
      assert.deepStrictEqual(Option.map(refreshed.refreshToken, Redacted.value), Option.some("rt-2"))
    })
  )

  it.effect("fails Rejected with the error code on invalid_grant", () =>
    Effect.gen(function* () {
      const { client } = yield* issuerWith({
        [TOKEN]: () => json(400, { error: "invalid_grant", error_description: "token revoked" })
      })
      const error = failure(yield* Effect.exit(client.refresh(Redacted.make("rt-1"))))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "refresh")
      assert.strictEqual(error.code, "invalid_grant")
      assert.strictEqual(error.status, 400)
      assert.notInclude(error.message, "rt-1")
    })
  )
})

describe("OidcIssuer.revoke", () => {
  it.effect("posts the RFC 7009 form to the revocation endpoint", () =>
    Effect.gen(function* () {
      const { client, to } = yield* issuerWith({ [REVOKE]: () => ({ status: 200 }) })
      yield* client.revoke(Redacted.make("rt-1"))
      assert.strictEqual(to(REVOKE)[0]!.headers["content-type"], "application/x-www-form-urlencoded")
      assert.strictEqual(to(REVOKE)[0]!.body, "token=rt-1&token_type_hint=refresh_token&client_id=cli-123")
      const refused = yield* issuerWith({ [REVOKE]: () => json(400, { error: "unsupported_token_type" }) })
      const error = failure(yield* Effect.exit(refused.client.revoke(Redacted.make("rt-1"))))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.step, "revoke")
    })
  )

  it.effect("gives up after 10 s", () =>
    Effect.gen(function* () {
      const { client } = yield* issuerWith({ [REVOKE]: () => "never" })
      const fiber = yield* Effect.fork(Effect.exit(client.revoke(Redacted.make("rt-1"))))
      yield* Effect.yieldNow()
      yield* TestClock.adjust("10 seconds")
      const error = failure(yield* Fiber.join(fiber))
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "no answer within 10s")
    })
  )

  it.effect("fails Misconfigured when discovery has no revocation_endpoint", () =>
    Effect.gen(function* () {
      const { client, to } = yield* issuerWith({
        [OPENID]: () => json(200, discovery({ revocation_endpoint: undefined }))
      })
      const error = failure(yield* Effect.exit(client.revoke(Redacted.make("rt-1"))))
      assert.strictEqual(error.reason, "Misconfigured")
      assert.strictEqual(error.step, "revoke")
      assert.include(error.message, "it publishes no revocation_endpoint")
      assert.strictEqual(to(REVOKE).length, 0)
    })
  )
})

describe("OidcIssuer: hostile answers", () => {
  it.effect("refuses a token answer with a blank or spaced token, naming the field and never the value", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<Record<string, unknown>> = [
        { access_token: " " },
        { access_token: "" },
        { access_token: "at-1", refresh_token: "rt secret" },
        { access_token: "at-1", id_token: "id\u0007secret" }
      ]
      for (const body of cases) {
        const { flow } = yield* pollWith(json(200, body))
        const error = failure(yield* Effect.exit(flow.poll(code)))
        assert.strictEqual(error.reason, "Malformed", JSON.stringify(body))
        assert.include(error.message, Object.keys(body).at(-1)!)
        assert.notInclude(error.message, "secret")
      }
      const { flow } = yield* pollWith(json(200, { access_token: "at-1", refresh_token: null, id_token: null }))
      const result = yield* flow.poll(code)
      if (result._tag !== "Approved" || result.grant._tag !== "Tokens") return assert.fail("expected a Tokens grant")
      assert.isTrue(Option.isNone(result.grant.tokens.refreshToken))
      const refreshed = yield* issuerWith({ [TOKEN]: () => json(200, { access_token: "at 2" }) })
      assert.strictEqual(
        failure(yield* Effect.exit(refreshed.client.refresh(Redacted.make("rt-1")))).reason,
        "Malformed"
      )
    })
  )

  it.effect("refuses a blank device or user code, and reads an absurd expires_in as none", () =>
    Effect.gen(function* () {
      for (const [field, value] of [
        ["device_code", "\t"],
        ["user_code", " "]
      ] as const) {
        const { flow } = yield* issuerWith({ [DEVICE]: () => json(200, deviceBody({ [field]: value })) })
        const error = failure(yield* Effect.exit(flow.start))
        assert.strictEqual(error.reason, "Malformed")
        assert.include(error.message, field)
      }
      const { client } = yield* issuerWith({
        [TOKEN]: () => json(200, { access_token: "at-2", expires_in: "1e308" })
      })
      assert.isTrue(Option.isNone((yield* client.refresh(Redacted.make("rt-1"))).expiresIn))
    })
  )

  it.effect("sends devicecode's User-Agent on every call, and no codex originator", () =>
    Effect.gen(function* () {
      const { client, flow, requests } = yield* issuerWith({
        [DEVICE]: () => json(200, deviceBody()),
        [TOKEN]: (request) =>
          request.body.startsWith("grant_type=urn")
            ? json(400, { error: "authorization_pending" })
            : json(200, { access_token: "at-2" }),
        [REVOKE]: () => ({ status: 200 })
      })
      yield* flow.start
      yield* flow.poll(code)
      yield* flow.complete(codeGrant)
      yield* client.refresh(Redacted.make("rt-1"))
      yield* client.revoke(Redacted.make("rt-1"))
      // the login flow and the issuer client each discover the provider once
      assert.deepStrictEqual(
        requests.map((request) => request.url),
        [OPENID, DEVICE, TOKEN, TOKEN, OPENID, TOKEN, REVOKE]
      )
      for (const request of requests) {
        assert.strictEqual(request.headers["user-agent"], userAgent, request.url)
        assert.isUndefined(request.headers["originator"], request.url)
      }
    })
  )

  it.effect("revokes an access token with token_type_hint access_token", () =>
    Effect.gen(function* () {
      const { client, to } = yield* issuerWith({ [REVOKE]: () => ({ status: 200 }) })
      yield* client.revoke(Redacted.make("at-1"), "access_token")
      assert.strictEqual(to(REVOKE)[0]!.body, "token=at-1&token_type_hint=access_token&client_id=cli-123")
    })
  )

  it.effect("reads invalid_grant and codex's refresh codes in any case", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [number, unknown, Option.Option<string>, boolean]> = [
        [400, { error: "INVALID_GRANT", error_description: "Token expired" }, Option.some("Expired"), true],
        [400, { error: "Invalid_Grant" }, Option.some("Other"), true],
        [400, { error: { code: "REFRESH_TOKEN_REUSED" } }, Option.some("Reused"), true],
        [400, { error: "invalid_request" }, Option.none(), false]
      ]
      for (const [status, body, expected, spent] of cases) {
        const { client } = yield* issuerWith({ [TOKEN]: () => json(status, body) })
        const error = failure(yield* Effect.exit(client.refresh(Redacted.make("rt-1"))))
        assert.deepStrictEqual(client.refreshFailure(error), expected, JSON.stringify(body))
        assert.strictEqual(client.refreshSpentElsewhere(error), spent, JSON.stringify(body))
      }
    })
  )
})

describe("OidcIssuer: a browser login's authorization request", () => {
  const request = {
    redirectUri: "http://127.0.0.1:49152/callback",
    codeChallenge: s256Challenge("v".repeat(86)),
    state: "s".repeat(43),
    nonce: Option.some("n".repeat(43)),
    allowedWorkspaceId: Option.some("ignored-by-oidc")
  }

  it.effect("goes to the discovered authorization_endpoint, its own query kept, RFC 6749 + PKCE + nonce in order", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith({
        [OPENID]: () => json(200, discovery({ authorization_endpoint: `${ISSUER}/authorize?tenant=t1` }))
      })
      const authorize = yield* flow.authorizeUrl(request)
      assert.isTrue(Option.isNone(authorize.responseIss), "no iss is expected from a provider that does not say so")
      const url = new URL(authorize.url)
      assert.strictEqual(`${url.origin}${url.pathname}`, `${ISSUER}/authorize`)
      assert.deepStrictEqual(
        [...url.searchParams],
        [
          ["tenant", "t1"],
          ["response_type", "code"],
          ["client_id", "cli-123"],
          ["redirect_uri", request.redirectUri],
          ["scope", "openid profile email offline_access"],
          ["state", request.state],
          ["code_challenge", request.codeChallenge],
          ["code_challenge_method", "S256"],
          ["nonce", "n".repeat(43)],
          ["prompt", "consent"]
        ]
      )
    })
  )

  it.effect("expects the issuer as the redirect's iss where discovery says it sends one (RFC 9207)", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith({
        [OPENID]: () =>
          json(
            200,
            discovery({
              authorization_endpoint: `${ISSUER}/authorize`,
              authorization_response_iss_parameter_supported: true
            })
          )
      })
      assert.deepStrictEqual((yield* flow.authorizeUrl(request)).responseIss, Option.some(ISSUER))
    })
  )

  it.effect("fails Misconfigured when discovery has no authorization_endpoint", () =>
    Effect.gen(function* () {
      const { flow } = yield* issuerWith({})
      const error = failure(yield* Effect.exit(flow.authorizeUrl(request)))
      assert.strictEqual(error.reason, "Misconfigured")
      assert.include(error.message, "no authorization_endpoint (the provider does not offer browser login)")
    })
  )
})
