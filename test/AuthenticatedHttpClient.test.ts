import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Inspectable, Layer, Option, Redacted, Stream } from "effect"
import { decodeJwtPayload } from "../src/domain/IdTokenClaims.js"
import { NotLoggedIn, RefreshError } from "../src/domain/Errors.js"
import { AuthenticatedHttpClient, authenticate, layer } from "../src/layers/AuthenticatedHttpClient.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import { AuthSession, type AuthSessionError, type SessionToken } from "../src/services/AuthSession.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { fakeClient, json, type Reply } from "./support/fakeHttp.js"
import { postForm, postJson } from "./support/http.js"

interface FakeSessionOptions {
  readonly token: string
  /** What refreshAfterRejection returns; default `${token}-refreshed`. */
  readonly refreshed?: string
  readonly dialect?: "codex" | "rfc8628"
  readonly accountId?: string
  readonly accessTokenFails?: AuthSessionError
  readonly refreshFails?: AuthSessionError
}

/** A fake AuthSession that records how often a token was asked for and which tokens were reported rejected. */
const fakeSession = (options: FakeSessionOptions) => {
  const calls = { accessToken: 0, rejected: [] as Array<string> }
  let current = options.token
  // the headers the sign-in's issuer client asks for, as the session hands them out with each token
  const client =
    options.dialect === "rfc8628"
      ? OidcIssuer.rules("https://issuer.test", "c", "openid")
      : CodexIssuer.rules("https://issuer.test", "c")
  const tokenOf = (value: string): SessionToken => ({
    accessToken: Redacted.make(value),
    expiresAt: Option.none(),
    headers: client.requestHeaders(Option.fromNullable(options.accountId))
  })
  const layer = Layer.succeed(
    AuthSession,
    AuthSession.of({
      token: Effect.suspend(() => {
        calls.accessToken++
        return options.accessTokenFails ? Effect.fail(options.accessTokenFails) : Effect.succeed(tokenOf(current))
      }),
      accessToken: Effect.die("the client asks for the token with its headers"),
      refreshAfterRejection: (rejected) =>
        Effect.suspend(() => {
          calls.rejected.push(Redacted.value(rejected))
          if (options.refreshFails) return Effect.fail(options.refreshFails)
          current = options.refreshed ?? `${options.token}-refreshed`
          return Effect.succeed(tokenOf(current))
        }),
      claims: Effect.die("claims are not used"),
      account: Effect.die("the account is not read per request")
    })
  )
  return { layer, calls }
}

/** AuthenticatedHttpClient through `layer`, over `client` (without trace headers) and the fake session. */
const provideClient = (client: HttpClient.HttpClient, session: ReturnType<typeof fakeSession>) =>
  Effect.provide(
    layer.pipe(
      Layer.provide(
        Layer.merge(
          Layer.succeed(HttpClient.HttpClient, HttpClient.withTracerPropagation(client, false)),
          session.layer
        )
      )
    )
  )

const api = "https://api.test/v1/me"

/** Answers 200 to `good` and 401 to any other bearer token. */
const acceptOnly =
  (good: string) =>
  (request: { readonly headers: Record<string, string> }): Reply =>
    request.headers.authorization === `Bearer ${good}`
      ? json(200, { ok: true })
      : json(401, { error: { code: "invalid_token" } }, { "www-authenticate": 'Bearer error="invalid_token"' })

describe("AuthenticatedHttpClient over a fake HttpClient", () => {
  it.effect("sends the bearer token and, for a Codex account, ChatGPT-Account-Id, keeping the caller's headers", () => {
    const fake = fakeClient(() => json(200, {}))
    const session = fakeSession({ token: "at_1", accountId: "acct_1" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const response = yield* client.execute(HttpClientRequest.get(api).pipe(HttpClientRequest.acceptJson))
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(fake.requests, [
        {
          method: "GET",
          url: api,
          headers: { accept: "application/json", authorization: "Bearer at_1", "chatgpt-account-id": "acct_1" },
          body: ""
        }
      ])
      assert.strictEqual(session.calls.accessToken, 1)
      assert.deepStrictEqual(session.calls.rejected, [])
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("sends no ChatGPT-Account-Id for an RFC 8628 sign-in", () => {
    const fake = fakeClient(() => json(200, {}))
    const session = fakeSession({ token: "at_1", dialect: "rfc8628", accountId: "acct_1" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      yield* client.get(api)
      assert.deepStrictEqual(fake.requests[0]?.headers, { authorization: "Bearer at_1" })
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("sends no ChatGPT-Account-Id for a Codex sign-in without an account (an API key)", () => {
    const fake = fakeClient(() => json(200, {}))
    const session = fakeSession({ token: "sk-key" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      yield* client.get(api)
      assert.deepStrictEqual(fake.requests[0]?.headers, { authorization: "Bearer sk-key" })
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("on a 401 refreshes the rejected token and sends the same request once more with the new one", () => {
    const fake = fakeClient(acceptOnly("at_2"))
    const session = fakeSession({ token: "at_1", refreshed: "at_2", accountId: "acct_1" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const response = yield* client.execute(
        HttpClientRequest.post(api).pipe(HttpClientRequest.bodyUnsafeJson({ hello: "world" }))
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(yield* response.json, { ok: true })
      assert.deepStrictEqual(session.calls.rejected, ["at_1"])
      assert.strictEqual(fake.requests.length, 2)
      const [first, second] = fake.requests
      assert.strictEqual(first?.headers.authorization, "Bearer at_1")
      assert.strictEqual(second?.headers.authorization, "Bearer at_2")
      assert.strictEqual(second?.headers["chatgpt-account-id"], "acct_1")
      assert.strictEqual(second?.method, "POST")
      assert.strictEqual(second?.body, '{"hello":"world"}')
      assert.strictEqual(second?.body, first?.body)
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("returns a second 401 as it came, after one refresh and one retry", () => {
    const fake = fakeClient(acceptOnly("never-valid"))
    const session = fakeSession({ token: "at_1", refreshed: "at_2" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const response = yield* client.get(api)
      assert.strictEqual(response.status, 401)
      assert.strictEqual(response.headers["www-authenticate"], 'Bearer error="invalid_token"')
      assert.deepStrictEqual(yield* response.json, { error: { code: "invalid_token" } })
      assert.deepStrictEqual(session.calls.rejected, ["at_1"])
      assert.deepStrictEqual(
        fake.requests.map((request) => request.headers.authorization),
        ["Bearer at_1", "Bearer at_2"]
      )
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("passes any other error status through untouched, without a refresh", () => {
    const fake = fakeClient(() => json(403, { error: { code: "account_mismatch" } }, { "x-request-id": "r1" }))
    const session = fakeSession({ token: "at_1", accountId: "acct_1" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const response = yield* client.get(api)
      assert.strictEqual(response.status, 403)
      assert.strictEqual(response.headers["x-request-id"], "r1")
      assert.deepStrictEqual(yield* response.json, { error: { code: "account_mismatch" } })
      assert.strictEqual(fake.requests.length, 1)
      assert.deepStrictEqual(session.calls.rejected, [])
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("fails with the session's error and sends nothing when there is no token", () => {
    const fake = fakeClient(() => json(200, {}))
    const session = fakeSession({ token: "at_1", accessTokenFails: new NotLoggedIn() })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const error = yield* Effect.flip(client.get(api))
      assert.instanceOf(error, NotLoggedIn)
      assert.strictEqual(fake.requests.length, 0)
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("fails with the refresh's error when a rejected token cannot be refreshed, and does not retry", () => {
    const fake = fakeClient(acceptOnly("at_2"))
    const session = fakeSession({ token: "at_1", refreshFails: new RefreshError({ reason: "Reused", issuer: "x" }) })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const error = yield* Effect.flip(client.get(api))
      assert.instanceOf(error, RefreshError)
      assert.deepStrictEqual(session.calls.rejected, ["at_1"])
      assert.strictEqual(fake.requests.length, 1)
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("refreshes but does not replay a request whose body is a stream", () => {
    const fake = fakeClient(acceptOnly("at_2"))
    const session = fakeSession({ token: "at_1", refreshed: "at_2" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const response = yield* client.execute(
        HttpClientRequest.post(api).pipe(
          HttpClientRequest.bodyStream(Stream.make(new TextEncoder().encode("once")), { contentType: "text/plain" })
        )
      )
      assert.strictEqual(response.status, 401)
      assert.deepStrictEqual(session.calls.rejected, ["at_1"])
      assert.strictEqual(fake.requests.length, 1)
      const next = yield* client.get(api)
      assert.strictEqual(next.status, 200, "the next request carries the refreshed token")
    }).pipe(provideClient(fake.client, session))
  })

  it.effect("keeps the token out of a transport error: it names the caller's request", () => {
    const failing = HttpClient.make((request) =>
      Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", description: "connection reset" }))
    )
    const session = fakeSession({ token: "secret-token-value", accountId: "acct_1" })
    return Effect.gen(function* () {
      const client = yield* AuthenticatedHttpClient
      const error = yield* Effect.flip(client.get(api))
      if (error._tag !== "RequestError") return assert.fail(`expected a RequestError, got ${error._tag}`)
      assert.notInclude(error.message, "secret-token-value")
      assert.notInclude(Inspectable.format(error), "secret-token-value")
      assert.notInclude(JSON.stringify(error), "secret-token-value")
      assert.strictEqual(error.message, `Transport: connection reset (GET ${api})`)
      assert.deepStrictEqual({ ...error.request.headers }, {})
    }).pipe(provideClient(failing, session))
  })
})

/** A real Codex login against the issuer, over fetch; returns the token response. */
const codexLogin = (issuer: LocalIssuer.LocalIssuer) =>
  Effect.gen(function* () {
    const code = yield* postJson(`${issuer.url}/api/accounts/deviceauth/usercode`, { client_id: issuer.clientId })
    assert.strictEqual(code.status, 200)
    assert.isTrue(yield* issuer.approve(code.json.user_code))
    const approved = yield* postJson(`${issuer.url}/api/accounts/deviceauth/token`, {
      device_auth_id: code.json.device_auth_id,
      user_code: code.json.user_code
    })
    assert.strictEqual(approved.status, 200)
    const tokens = yield* postForm(`${issuer.url}/oauth/token`, {
      grant_type: "authorization_code",
      code: approved.json.authorization_code,
      redirect_uri: `${issuer.url}/deviceauth/callback`,
      client_id: issuer.clientId,
      code_verifier: approved.json.code_verifier
    })
    assert.strictEqual(tokens.status, 200)
    return tokens.json
  })

const accountIdOf = (idToken: string): string => {
  const auth = Either.getOrThrow(decodeJwtPayload(idToken))["https://api.openai.com/auth"] as Record<string, unknown>
  return auth.chatgpt_account_id as string
}

describe("AuthenticatedHttpClient against LocalIssuer's /v1/me", () => {
  it.scopedLive("a real token and account pass; a rejected token is refreshed and the call retried once", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const tokens = yield* codexLogin(issuer)
      const accessToken: string = tokens.access_token
      const accountId = accountIdOf(tokens.id_token)
      const http = yield* HttpClient.HttpClient
      const me = `${issuer.url}/v1/me`

      const valid = fakeSession({ token: accessToken, accountId })
      const client = yield* authenticate(http).pipe(Effect.provide(valid.layer))
      const ok = yield* client.get(me)
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(((yield* ok.json) as Record<string, unknown>).account_id, accountId)
      assert.deepStrictEqual(valid.calls.rejected, [])

      const stale = fakeSession({ token: "garbage", refreshed: accessToken, accountId })
      const retrying = yield* authenticate(http).pipe(Effect.provide(stale.layer))
      const retried = yield* retrying.get(me)
      assert.strictEqual(retried.status, 200)
      assert.strictEqual(((yield* retried.json) as Record<string, unknown>).account_id, accountId)
      assert.deepStrictEqual(stale.calls.rejected, ["garbage"])

      const otherAccount = fakeSession({ token: accessToken, accountId: "acct_other" })
      const mismatched = yield* (yield* authenticate(http).pipe(Effect.provide(otherAccount.layer))).get(me)
      assert.strictEqual(mismatched.status, 403, "a 403 is not a reason to refresh")
      assert.deepStrictEqual(otherAccount.calls.rejected, [])

      assert.deepStrictEqual(
        (yield* issuer.requests).filter((request) => request.path === "/v1/me").map((request) => request.status),
        [200, 401, 200, 403]
      )
    }).pipe(Effect.provide(NodeHttpClient.layer))
  )
})
