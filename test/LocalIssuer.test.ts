import { readdirSync, readFileSync } from "node:fs"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Either, Fiber, Option, TestClock } from "effect"
import { CODEX_CLIENT_ID } from "../src/domain/CodexWire.js"
import { decodeJwtPayload } from "../src/domain/IdTokenClaims.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { pause, postForm, postJson, request } from "./support/http.js"

const userCode = (issuer: LocalIssuer.LocalIssuer) =>
  Effect.map(postJson(`${issuer.url}/api/accounts/deviceauth/usercode`, { client_id: issuer.clientId }), (answer) => ({
    deviceAuthId: answer.json.device_auth_id as string,
    userCode: answer.json.user_code as string,
    answer
  }))

const poll = (issuer: LocalIssuer.LocalIssuer, code: { deviceAuthId: string; userCode: string }) =>
  postJson(`${issuer.url}/api/accounts/deviceauth/token`, {
    device_auth_id: code.deviceAuthId,
    user_code: code.userCode
  })

const exchange = (issuer: LocalIssuer.LocalIssuer, fields: Record<string, string>) =>
  postForm(`${issuer.url}/oauth/token`, {
    grant_type: "authorization_code",
    redirect_uri: `${issuer.url}/deviceauth/callback`,
    client_id: issuer.clientId,
    ...fields
  })

/** Runs the whole codex login against the issuer and returns the token response. */
const login = (issuer: LocalIssuer.LocalIssuer) =>
  Effect.gen(function* () {
    const code = yield* userCode(issuer)
    assert.isTrue(yield* issuer.approve(code.userCode))
    const approved = yield* poll(issuer, code)
    assert.strictEqual(approved.status, 200)
    const tokens = yield* exchange(issuer, {
      code: approved.json.authorization_code,
      code_verifier: approved.json.code_verifier
    })
    assert.strictEqual(tokens.status, 200)
    return tokens.json
  })

const refresh = (issuer: LocalIssuer.LocalIssuer, refreshToken: string) =>
  postJson(`${issuer.url}/oauth/token`, {
    client_id: issuer.clientId,
    grant_type: "refresh_token",
    refresh_token: refreshToken
  })

/** A logged request without what the client chose to send (headers, body), for comparing request logs. */
const brief = ({ body: _body, headers: _headers, search: _search, ...rest }: LocalIssuer.LocalIssuerRequest) => rest

const payload = (jwt: string): Record<string, unknown> => Either.getOrThrow(decodeJwtPayload(jwt))

describe("LocalIssuer", () => {
  it.scoped("issues user codes in the live server's shape", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      assert.match(issuer.url, /^http:\/\/127\.0\.0\.1:\d+$/)
      const { answer } = yield* userCode(issuer)
      assert.strictEqual(answer.status, 200)
      assert.match(answer.json.device_auth_id, /^deviceauth_[A-Za-z0-9_-]+$/)
      assert.match(answer.json.user_code, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{5}$/)
      assert.strictEqual(answer.json.interval, "5")
      assert.strictEqual(answer.json.expires_at, "1970-01-01T00:15:00.000Z")
      assert.deepStrictEqual(yield* issuer.codes, [{ userCode: answer.json.user_code, status: "pending" }])

      const unknown = yield* postJson(`${issuer.url}/api/accounts/deviceauth/usercode`, { client_id: "nope" })
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(unknown.json.error.code, "invalid_client")
    })
  )

  it.scoped("carries the interval in whole seconds as a string, as the live server: 5 by default, or omits it", () =>
    Effect.gen(function* () {
      assert.strictEqual((yield* userCode(yield* LocalIssuer.make())).answer.json.interval, "5")
      const three = yield* LocalIssuer.make({ interval: "3 seconds" })
      assert.strictEqual((yield* userCode(three)).answer.json.interval, "3")
      const rounded = yield* LocalIssuer.make({ interval: Duration.millis(1500) })
      assert.strictEqual((yield* userCode(rounded)).answer.json.interval, "2")
      const none = yield* LocalIssuer.make({ interval: null })
      assert.isFalse("interval" in (yield* userCode(none)).answer.json)
    })
  )

  it.scoped("answers a pending poll 403 and a mismatched pair 400", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* userCode(issuer)
      const pending = yield* poll(issuer, code)
      assert.strictEqual(pending.status, 403)
      assert.strictEqual(pending.json.error.code, "deviceauth_authorization_pending")
      const mismatched = yield* poll(issuer, { deviceAuthId: code.deviceAuthId, userCode: "AAAA-BBBBB" })
      assert.strictEqual(mismatched.status, 400)
      assert.strictEqual(mismatched.json.error.code, "invalid_request")
    })
  )

  it.scoped("approves through the web form, then hands out a code once and exchanges it for signed tokens", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ email: "ada@example.com", plan: "pro" })
      const code = yield* userCode(issuer)

      const page = yield* request(`${issuer.url}/codex/device?user_code=${encodeURIComponent(code.userCode)}`)
      assert.strictEqual(page.status, 200)
      assert.include(page.headers.get("content-type"), "text/html")
      assert.include(page.text, `value="${code.userCode}"`)
      assert.include(page.text, `name="action" value="approve"`)
      assert.include(page.text, `name="action" value="deny"`)

      const typed = `  ${code.userCode.replace("-", "").toLowerCase()} `
      const approved = yield* postForm(`${issuer.url}/codex/device`, { user_code: typed, action: "approve" })
      assert.strictEqual(approved.status, 200)
      assert.include(approved.text, "Approved. You can return to your terminal.")

      const granted = yield* poll(issuer, code)
      assert.strictEqual(granted.status, 200)
      assert.strictEqual(s256Challenge(granted.json.code_verifier), granted.json.code_challenge)
      assert.strictEqual(Buffer.from(granted.json.code_verifier, "base64url").length, 64)
      const again = yield* poll(issuer, code)
      assert.strictEqual(again.status, 400)
      assert.strictEqual(again.json.error.code, "invalid_grant")
      assert.deepStrictEqual(yield* issuer.codes, [{ userCode: code.userCode, status: "redeemed" }])

      const authorizationCode: string = granted.json.authorization_code
      const wrongVerifier = yield* exchange(issuer, { code: authorizationCode, code_verifier: "x".repeat(64) })
      assert.strictEqual(wrongVerifier.status, 400)
      assert.strictEqual(wrongVerifier.json.error, "invalid_grant")
      const wrongRedirect = yield* exchange(issuer, {
        code: authorizationCode,
        code_verifier: granted.json.code_verifier,
        redirect_uri: "http://127.0.0.1:1/callback"
      })
      assert.strictEqual(wrongRedirect.status, 400)
      assert.strictEqual(wrongRedirect.json.error, "invalid_grant")

      const tokens = yield* exchange(issuer, { code: authorizationCode, code_verifier: granted.json.code_verifier })
      assert.strictEqual(tokens.status, 200)
      assert.strictEqual(tokens.json.expires_in, 3600)
      assert.match(tokens.json.refresh_token, /^rt_/)
      const header = JSON.parse(Buffer.from(tokens.json.id_token.split(".")[0], "base64url").toString("utf8"))
      assert.deepStrictEqual(header, { alg: "HS256", typ: "JWT" })
      const claims = payload(tokens.json.id_token)
      assert.strictEqual(claims.iss, issuer.url)
      assert.strictEqual(claims.aud, CODEX_CLIENT_ID)
      assert.strictEqual(claims.email, "ada@example.com")
      assert.deepStrictEqual(claims["https://api.openai.com/profile"], {
        email: "ada@example.com",
        email_verified: true
      })
      assert.deepStrictEqual(claims["https://api.openai.com/auth"], {
        chatgpt_account_id: "acct_local_0001",
        chatgpt_plan_type: "pro",
        chatgpt_user_id: "user-local0001",
        user_id: "user-local0001"
      })
      const access = payload(tokens.json.access_token)
      assert.strictEqual(access.client_id, CODEX_CLIENT_ID)
      assert.strictEqual(access.exp, 3600)
      assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(tokens.json.access_token)))
      assert.isTrue(Option.isNone(yield* issuer.verifyAccessToken(`${tokens.json.access_token}x`)))

      const reused = yield* exchange(issuer, { code: authorizationCode, code_verifier: granted.json.code_verifier })
      assert.strictEqual(reused.status, 400)
      const stats = yield* issuer.stats
      assert.strictEqual(stats.usercode, 1)
      assert.strictEqual(stats.poll, 2)
      assert.strictEqual(stats.exchange, 4)
      assert.strictEqual(stats.devicePage, 2)
    })
  )

  it.scoped("omits the account claim when accountId is null", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ accountId: null })
      const tokens = yield* login(issuer)
      assert.isFalse("chatgpt_account_id" in (payload(tokens.id_token)["https://api.openai.com/auth"] as object))
    })
  )

  it.scoped("denies through the web form and escapes what it echoes", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* userCode(issuer)
      const denied = yield* postForm(`${issuer.url}/codex/device`, { user_code: code.userCode, action: "deny" })
      assert.strictEqual(denied.status, 200)
      assert.include(denied.text, "Denied.")
      const polled = yield* poll(issuer, code)
      assert.strictEqual(polled.status, 400)
      assert.deepStrictEqual(polled.json, {
        error: { code: "access_denied", message: "The sign-in request was denied." }
      })
      assert.isFalse(yield* issuer.approve(code.userCode))

      const unknown = yield* postForm(`${issuer.url}/codex/device`, { user_code: "ZZZZ-ZZZZZ", action: "approve" })
      assert.strictEqual(unknown.status, 400)
      assert.include(unknown.text, "Unknown or expired code")
      const hostileCode = encodeURIComponent(`"><script>x</script>`)
      const hostile = yield* request(`${issuer.url}/codex/device?user_code=${hostileCode}`)
      assert.notInclude(hostile.text, "<script>")
      assert.include(hostile.text, "&#34;&#62;&#60;script&#62;")
    })
  )

  it.scoped("rotates refresh tokens and reports reuse", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const first = yield* login(issuer)
      const rotated = yield* refresh(issuer, first.refresh_token)
      assert.strictEqual(rotated.status, 200)
      assert.notStrictEqual(rotated.json.refresh_token, first.refresh_token)
      assert.isString(rotated.json.id_token)
      assert.isString(rotated.json.access_token)

      const reused = yield* refresh(issuer, first.refresh_token)
      assert.strictEqual(reused.status, 401)
      assert.strictEqual(reused.json.error.code, "refresh_token_reused")
      const unknown = yield* refresh(issuer, "rt_unknown")
      assert.strictEqual(unknown.status, 401)
      assert.strictEqual(unknown.json.error.code, "refresh_token_invalidated")

      const byForm = yield* postForm(`${issuer.url}/oauth/token`, {
        client_id: issuer.clientId,
        grant_type: "refresh_token",
        refresh_token: rotated.json.refresh_token
      })
      assert.strictEqual(byForm.status, 200)
      const stats = yield* issuer.stats
      assert.strictEqual(stats.refresh, 4)
      assert.strictEqual(stats.refreshTokenReused, 1)
    })
  )

  it.scoped("revokes a refresh token", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const tokens = yield* login(issuer)
      const revoked = yield* postJson(`${issuer.url}/oauth/revoke`, {
        token: tokens.refresh_token,
        token_type_hint: "refresh_token",
        client_id: issuer.clientId
      })
      assert.strictEqual(revoked.status, 200)
      assert.deepStrictEqual(revoked.json, {})
      const after = yield* refresh(issuer, tokens.refresh_token)
      assert.strictEqual(after.status, 401)
      assert.strictEqual(after.json.error.code, "refresh_token_invalidated")
      assert.strictEqual((yield* issuer.stats).revoke, 1)
    })
  )

  it.scoped("exchanges an id_token for an API key as codex's browser login does", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const tokens = yield* login(issuer)
      const exchanged = yield* postForm(`${issuer.url}/oauth/token`, {
        grant_type: "urn:ietf:params:oauth:grant-type:token-exchange",
        client_id: issuer.clientId,
        requested_token: "openai-api-key",
        subject_token: tokens.id_token,
        subject_token_type: "urn:ietf:params:oauth:token-type:id_token"
      })
      assert.strictEqual(exchanged.status, 200)
      assert.match(exchanged.json.access_token, /^sk-local-/)
      const unsupported = yield* postForm(`${issuer.url}/oauth/token`, { grant_type: "password" })
      assert.strictEqual(unsupported.status, 400)
      assert.strictEqual(unsupported.json.error, "unsupported_grant_type")
      const missing = yield* request(`${issuer.url}/nowhere`)
      assert.strictEqual(missing.status, 404)
      assert.strictEqual(missing.json.error.code, "not_found")
    })
  )

  it.scoped("answers queued faults in order, then serves normally", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({
        faults: [
          { path: "/api/accounts/deviceauth/usercode", status: 503, headers: { "retry-after": "7" }, times: 2 },
          { path: "/oauth/revoke", reset: true }
        ]
      })
      for (let i = 0; i < 2; i++) {
        const failed = yield* userCode(issuer)
        assert.strictEqual(failed.answer.status, 503)
        assert.strictEqual(failed.answer.headers.get("retry-after"), "7")
      }
      assert.strictEqual((yield* userCode(issuer)).answer.status, 200)

      const reset = yield* Effect.tryPromise(() => fetch(`${issuer.url}/oauth/revoke`, { method: "POST" })).pipe(
        Effect.either
      )
      assert.isTrue(Either.isLeft(reset))
      assert.deepStrictEqual((yield* issuer.knobs).faults, [])
      assert.strictEqual((yield* issuer.stats).faults, 3)
    })
  )

  it.effect("closes promptly even with a request left hanging by a fault", () =>
    Effect.gen(function* () {
      const started = Date.now()
      const outcome = yield* Effect.scoped(
        Effect.gen(function* () {
          const issuer = yield* LocalIssuer.make()
          yield* issuer.setKnobs({ faults: [{ path: "/oauth/token", hang: true }] })
          const pending = fetch(`${issuer.url}/oauth/token`, { method: "POST" }).then(
            () => "answered",
            () => "failed"
          )
          while ((yield* issuer.requests).length === 0) yield* pause(5)
          assert.deepStrictEqual((yield* issuer.requests).map(brief), [
            { method: "POST", path: "/oauth/token", status: "hang" }
          ])
          return pending
        })
      )
      assert.strictEqual(yield* Effect.promise(() => outcome), "failed")
      assert.isBelow(Date.now() - started, 2000)
    })
  )

  it.scoped("slows down the next polls when asked", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* userCode(issuer)
      yield* issuer.setKnobs({ slowDownPolls: 2 })
      for (let i = 0; i < 2; i++) {
        const slow = yield* poll(issuer, code)
        assert.strictEqual(slow.status, 403)
        assert.strictEqual(slow.json.error.code, "slow_down")
      }
      const pending = yield* poll(issuer, code)
      assert.strictEqual(pending.json.error.code, "deviceauth_authorization_pending")
      assert.strictEqual((yield* issuer.stats).slowDown, 2)
    })
  )

  it.scoped("answers PKCE values that do not match when asked, while the code stays bound to the verifier", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ mismatchedPkce: true })
      const code = yield* userCode(issuer)
      assert.isTrue(yield* issuer.approve(code.userCode))
      const granted = yield* poll(issuer, code)
      assert.strictEqual(granted.status, 200)
      const { code_challenge: challenge, code_verifier: verifier } = granted.json
      assert.match(challenge, /^[A-Za-z0-9_-]{43}$/)
      assert.notStrictEqual(challenge, s256Challenge(verifier))
      const tokens = yield* exchange(issuer, { code: granted.json.authorization_code, code_verifier: verifier })
      assert.strictEqual(tokens.status, 200, "only a client's own check can refuse the pair")

      yield* issuer.setKnobs({ mismatchedPkce: false })
      const next = yield* userCode(issuer)
      assert.isTrue(yield* issuer.approve(next.userCode))
      const honest = (yield* poll(issuer, next)).json
      assert.strictEqual(honest.code_challenge, s256Challenge(honest.code_verifier))
    })
  )

  it.scoped("answers 404 when device-code login is disabled", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ deviceCodeDisabled: true })
      assert.strictEqual((yield* userCode(issuer)).answer.status, 404)
    })
  )

  it.scoped("expires codes on the Effect clock", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ codeTtl: "2 minutes" })
      const code = yield* userCode(issuer)
      yield* TestClock.adjust("119 seconds")
      assert.strictEqual((yield* poll(issuer, code)).status, 403)
      yield* TestClock.adjust("1 second")
      const expired = yield* poll(issuer, code)
      assert.strictEqual(expired.status, 400)
      assert.deepStrictEqual(expired.json, {
        error: { code: "expired_token", message: "The device code has expired." }
      })
      assert.isFalse(yield* issuer.approve(code.userCode))
      assert.deepStrictEqual(yield* issuer.codes, [{ userCode: code.userCode, status: "expired" }])
    })
  )

  it.scoped("hands each new code to nextCode once", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const waiting = yield* Effect.fork(issuer.nextCode)
      const first = yield* userCode(issuer)
      assert.strictEqual(yield* Fiber.join(waiting), first.userCode)
      const second = yield* userCode(issuer)
      assert.strictEqual(yield* issuer.nextCode, second.userCode)
    })
  )

  it.scoped("approves codes on its own after autoApproveAfter", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ autoApproveAfter: "20 millis" })
      const code = yield* userCode(issuer)
      let answer = yield* poll(issuer, code)
      while (answer.status === 403) {
        yield* pause(5)
        answer = yield* poll(issuer, code)
      }
      assert.strictEqual(answer.status, 200)
    })
  )

  it.scoped("routes by exact path: 404, 405 and unreadable bodies in each endpoint's own error shape, all logged", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const send = (method: string, path: string, body?: string) =>
        request(`${issuer.url}${path}`, {
          method,
          ...(body === undefined ? {} : { body, headers: { "content-type": "application/json" } })
        })
      const tokenGet = yield* send("GET", "/oauth/token")
      assert.strictEqual(tokenGet.status, 405)
      assert.deepStrictEqual(tokenGet.json, { error: { code: "method_not_allowed", message: "GET is not allowed." } })
      const deviceGet = yield* send("GET", "/oauth/device/code")
      assert.strictEqual(deviceGet.status, 405)
      assert.deepStrictEqual(deviceGet.json, { error: "invalid_request", error_description: "GET is not allowed." })
      assert.strictEqual((yield* send("HEAD", "/.well-known/openid-configuration")).status, 405)
      assert.strictEqual((yield* send("POST", "/v1/me", "{not json")).status, 405, "the resource never reads a body")

      const badToken = yield* send("POST", "/oauth/token", "{not json")
      assert.strictEqual(badToken.status, 400)
      assert.strictEqual(badToken.json.error, "invalid_request")
      const badUserCode = yield* send("POST", "/api/accounts/deviceauth/usercode", "{not json")
      assert.strictEqual(badUserCode.status, 400)
      assert.strictEqual(badUserCode.json.error.code, "invalid_request")

      const trailing = yield* postForm(`${issuer.url}/oauth/token/`, { grant_type: "constructor" })
      assert.strictEqual(trailing.status, 400)
      assert.strictEqual(trailing.json.error, "unsupported_grant_type")
      const upper = yield* send("GET", "/OAUTH/TOKEN")
      assert.strictEqual(upper.status, 404)
      assert.strictEqual(upper.json.error.code, "not_found")

      assert.deepStrictEqual((yield* issuer.requests).map(brief), [
        { method: "GET", path: "/oauth/token", status: 405 },
        { method: "GET", path: "/oauth/device/code", status: 405 },
        { method: "HEAD", path: "/.well-known/openid-configuration", status: 405 },
        { method: "POST", path: "/v1/me", status: 405 },
        { method: "POST", path: "/oauth/token", status: 400 },
        { method: "POST", path: "/api/accounts/deviceauth/usercode", status: 400 },
        { method: "POST", path: "/oauth/token", status: 400, grantType: "constructor" },
        { method: "GET", path: "/OAUTH/TOKEN", status: 404 }
      ])
      const stats = yield* issuer.stats
      assert.strictEqual(stats.notFound, 1)
      assert.strictEqual(stats.usercode + stats.discovery + stats.me, 0)
    })
  )

  it.effect("keeps its concern modules free of the public face (no import circle)", () =>
    Effect.sync(() => {
      const dir = "src/testing/localIssuer"
      for (const file of readdirSync(dir)) {
        const imports = [...readFileSync(`${dir}/${file}`, "utf8").matchAll(/from "(\.[^"]*)"/g)].map((m) => m[1]!)
        for (const path of imports) {
          assert.match(path, /^\.\/|^\.\.\/\.\.\/domain\//, `${file} imports ${path}`)
        }
      }
    })
  )

  it.scoped("is available as a layer", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.LocalIssuer
      assert.strictEqual((yield* userCode(issuer)).answer.status, 200)
    }).pipe(Effect.provide(LocalIssuer.layer({ clientId: "app_test" })))
  )
})

describe("LocalIssuer protected resource and token lifetime knob", () => {
  it.scopedLive("GET /v1/me accepts its own unexpired bearer tokens only; the TTL knob applies to new tokens", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ accessTokenTtl: 0 })
      const { access_token: accessToken } = yield* login(issuer)
      const me = (token: string, headers: Record<string, string> = {}) =>
        request(`${issuer.url}/v1/me`, { headers: { authorization: `Bearer ${token}`, ...headers } })
      assert.strictEqual((yield* me(accessToken)).status, 401, "a token born expired is refused")
      assert.strictEqual((yield* me("not-a-token")).status, 401)
      yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
      const fresh = (yield* login(issuer)).access_token
      const ok = yield* me(fresh, { "chatgpt-account-id": "acct_local_0001" })
      assert.strictEqual(ok.status, 200)
      assert.strictEqual(ok.json.account_id, "acct_local_0001")
      assert.strictEqual((yield* me(fresh, { "chatgpt-account-id": "acct_other" })).status, 403)
      assert.strictEqual((yield* issuer.stats).me, 4)
    })
  )
})
