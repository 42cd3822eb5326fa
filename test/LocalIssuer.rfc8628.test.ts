import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, TestClock } from "effect"
import { CODEX_CLIENT_ID } from "../src/domain/CodexWire.js"
import { decodeJwtPayload } from "../src/domain/IdTokenClaims.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { submitUserCode } from "../src/testing/browser.js"
import { pause, postForm, postJson, request } from "./support/http.js"

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"

const authorize = (issuer: LocalIssuer.LocalIssuer, scope = "openid profile email offline_access") =>
  Effect.map(postForm(`${issuer.url}/oauth/device/code`, { client_id: issuer.oidcClientId, scope }), (answer) => ({
    deviceCode: answer.json.device_code as string,
    userCode: answer.json.user_code as string,
    answer
  }))

const poll = (issuer: LocalIssuer.LocalIssuer, deviceCode: string, clientId = issuer.oidcClientId) =>
  postForm(`${issuer.url}/oauth/token`, { grant_type: DEVICE_CODE_GRANT, device_code: deviceCode, client_id: clientId })

/** The whole RFC 8628 login: authorize, approve by the API, poll once. */
const login = (issuer: LocalIssuer.LocalIssuer, scope?: string) =>
  Effect.gen(function* () {
    const code = yield* authorize(issuer, scope)
    assert.isTrue(yield* issuer.approve(code.userCode))
    const tokens = yield* poll(issuer, code.deviceCode)
    assert.strictEqual(tokens.status, 200)
    return tokens.json
  })

const refresh = (issuer: LocalIssuer.LocalIssuer, refreshToken: string, clientId = issuer.oidcClientId) =>
  postForm(`${issuer.url}/oauth/token`, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: clientId
  })

const payload = (jwt: string): Record<string, unknown> => Either.getOrThrow(decodeJwtPayload(jwt))

const discoveryPaths = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]

describe("LocalIssuer (RFC 8628)", () => {
  it.scoped("publishes discovery documents at both well-known paths", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      for (const path of discoveryPaths) {
        const answer = yield* request(`${issuer.url}${path}`)
        assert.strictEqual(answer.status, 200)
        assert.include(answer.headers.get("content-type"), "application/json")
        const doc = answer.json
        assert.strictEqual(doc.issuer, issuer.url)
        assert.strictEqual(doc.device_authorization_endpoint, `${issuer.url}/oauth/device/code`)
        assert.strictEqual(doc.token_endpoint, `${issuer.url}/oauth/token`)
        assert.strictEqual(doc.revocation_endpoint, `${issuer.url}/oauth/revoke`)
        for (const grant of [DEVICE_CODE_GRANT, "refresh_token", "authorization_code"]) {
          assert.include(doc.grant_types_supported, grant)
        }
        assert.deepStrictEqual(doc.response_types_supported, ["code"])
        assert.deepStrictEqual(doc.scopes_supported, ["openid", "profile", "email", "offline_access"])
        assert.deepStrictEqual(doc.token_endpoint_auth_methods_supported, ["none"])
        assert.isFalse("jwks_uri" in doc)
      }
      const posted = yield* postForm(`${issuer.url}${discoveryPaths[0]}`, {})
      assert.strictEqual(posted.status, 405)
      assert.strictEqual((yield* issuer.stats).discovery, 2)
    })
  )

  it.scoped("misconfigures discovery when asked", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()

      yield* issuer.setKnobs({ discovery: "no-device-endpoint" })
      for (const path of discoveryPaths) {
        const doc = (yield* request(`${issuer.url}${path}`)).json
        assert.strictEqual(doc.issuer, issuer.url)
        assert.isFalse("device_authorization_endpoint" in doc)
        assert.notInclude(doc.grant_types_supported, DEVICE_CODE_GRANT)
        assert.strictEqual(doc.token_endpoint, `${issuer.url}/oauth/token`)
      }

      yield* issuer.setKnobs({ discovery: "wrong-issuer" })
      for (const path of discoveryPaths) {
        const doc = (yield* request(`${issuer.url}${path}`)).json
        assert.isString(doc.issuer)
        assert.notStrictEqual(doc.issuer, issuer.url)
        assert.strictEqual(doc.device_authorization_endpoint, `${issuer.url}/oauth/device/code`)
      }

      yield* issuer.setKnobs({ discovery: "missing" })
      for (const path of discoveryPaths) {
        assert.strictEqual((yield* request(`${issuer.url}${path}`)).status, 404)
      }

      yield* issuer.setKnobs({ discovery: "normal" })
      assert.strictEqual((yield* request(`${issuer.url}${discoveryPaths[0]}`)).json.issuer, issuer.url)
    })
  )

  it.scoped("authorizes a device in RFC 8628's shape and refuses unknown clients", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ codeTtl: "10 minutes" })
      assert.strictEqual(issuer.oidcClientId, "devicecode-local")
      const { answer, userCode } = yield* authorize(issuer)
      assert.strictEqual(answer.status, 200)
      assert.strictEqual(Buffer.from(answer.json.device_code, "base64url").length, 32)
      assert.match(userCode, /^[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{5}$/)
      assert.strictEqual(answer.json.verification_uri, `${issuer.url}/device`)
      assert.strictEqual(answer.json.verification_uri_complete, `${issuer.url}/device?user_code=${userCode}`)
      assert.strictEqual(answer.json.expires_in, 600)
      assert.strictEqual(answer.json.interval, 5)
      assert.deepStrictEqual(yield* issuer.codes, [{ userCode, status: "pending" }])
      assert.strictEqual(yield* issuer.nextCode, userCode)

      for (const client_id of ["nope", CODEX_CLIENT_ID]) {
        const unknown = yield* postForm(`${issuer.url}/oauth/device/code`, { client_id, scope: "openid" })
        assert.strictEqual(unknown.status, 400)
        assert.strictEqual(unknown.json.error, "invalid_client")
        assert.match(unknown.json.error_description, /^Unknown client/)
      }
      assert.strictEqual((yield* issuer.stats).deviceAuthorization, 3)

      const custom = yield* LocalIssuer.make({ oidcClientId: "my-app", interval: "2 seconds" })
      const customAnswer = yield* postForm(`${custom.url}/oauth/device/code`, { client_id: "my-app" })
      assert.strictEqual(customAnswer.status, 200)
      assert.strictEqual(customAnswer.json.interval, 2)
      const rounded = yield* LocalIssuer.make({ interval: 1 })
      assert.strictEqual((yield* authorize(rounded)).answer.json.interval, 1, "1 millisecond is sent as 1 second")
      const none = yield* LocalIssuer.make({ interval: null })
      assert.isFalse("interval" in (yield* authorize(none)).answer.json)
    })
  )

  it.scoped("answers pending, then tokens once approved through the page, then invalid_grant", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ email: "ada@example.com", name: "Ada Lovelace" })
      const code = yield* authorize(issuer)

      const pending = yield* poll(issuer, code.deviceCode)
      assert.strictEqual(pending.status, 400)
      assert.strictEqual(pending.json.error, "authorization_pending")

      const page = yield* request(code.answer.json.verification_uri_complete)
      assert.strictEqual(page.status, 200)
      assert.include(page.text, `value="${code.userCode}"`)
      assert.include(page.text, `action="/device"`)
      const approved = yield* postForm(`${issuer.url}/device`, { user_code: code.userCode, action: "approve" })
      assert.strictEqual(approved.status, 200)
      assert.include(approved.text, "Approved.")

      yield* TestClock.adjust("30 seconds")
      const tokens = yield* poll(issuer, code.deviceCode)
      assert.strictEqual(tokens.status, 200)
      assert.strictEqual(tokens.json.token_type, "Bearer")
      assert.strictEqual(tokens.json.expires_in, 3600)
      assert.strictEqual(tokens.json.scope, "openid profile email offline_access")
      assert.isString(tokens.json.refresh_token)
      const claims = payload(tokens.json.id_token)
      assert.strictEqual(claims.iss, issuer.url)
      assert.strictEqual(claims.aud, issuer.oidcClientId)
      assert.isString(claims.sub)
      assert.strictEqual(claims.email, "ada@example.com")
      assert.strictEqual(claims.name, "Ada Lovelace")
      assert.strictEqual(claims.iat, 30)
      assert.strictEqual(claims.exp, 3630)
      const access = yield* issuer.verifyAccessToken(tokens.json.access_token)
      assert.isTrue(Option.isSome(access))
      assert.strictEqual(Option.getOrThrow(access).client_id, issuer.oidcClientId)

      const again = yield* poll(issuer, code.deviceCode)
      assert.strictEqual(again.status, 400)
      assert.strictEqual(again.json.error, "invalid_grant")
      assert.match(again.json.error_description, /already used/)
      assert.deepStrictEqual(yield* issuer.codes, [{ userCode: code.userCode, status: "redeemed" }])
      const stats = yield* issuer.stats
      assert.strictEqual(stats.devicePoll, 3)
      assert.strictEqual(stats.devicePage, 2)
      assert.strictEqual(stats.poll, 0)
      const grants = (yield* issuer.requests).filter((entry) => entry.path === "/oauth/token")
      assert.deepStrictEqual(
        grants.map((entry) => entry.grantType),
        [DEVICE_CODE_GRANT, DEVICE_CODE_GRANT, DEVICE_CODE_GRANT]
      )
    })
  )

  it.scoped("approves as a browser would, from verification_uri_complete", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* authorize(issuer)
      const text = yield* submitUserCode(code.answer.json.verification_uri_complete, code.userCode)
      assert.include(text, "Approved.")
      assert.strictEqual((yield* poll(issuer, code.deviceCode)).status, 200)
    })
  )

  it.scoped("grants only the supported scopes asked for, and an id_token only with openid", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const tokens = yield* login(issuer, "offline_access email unknown_scope")
      assert.strictEqual(tokens.scope, "email offline_access")
      assert.isFalse("id_token" in tokens)
      assert.strictEqual(payload(tokens.access_token).scope, "email offline_access")
      const rotated = yield* refresh(issuer, tokens.refresh_token)
      assert.strictEqual(rotated.status, 200)
      assert.isFalse("id_token" in rotated.json)
    })
  )

  it.scoped("checks the client and the device code at the token endpoint", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* authorize(issuer)
      const mismatch = yield* poll(issuer, code.deviceCode, CODEX_CLIENT_ID)
      assert.strictEqual(mismatch.status, 400)
      assert.strictEqual(mismatch.json.error, "invalid_client")
      const unknown = yield* poll(issuer, "not-a-device-code")
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(unknown.json.error, "invalid_grant")
      const missing = yield* postForm(`${issuer.url}/oauth/token`, {
        grant_type: DEVICE_CODE_GRANT,
        device_code: code.deviceCode
      })
      assert.strictEqual(missing.status, 400)
      assert.strictEqual(missing.json.error, "invalid_request")
      // A codex poll cannot redeem an RFC 8628 code, nor the other way round.
      const crossed = yield* postJson(`${issuer.url}/api/accounts/deviceauth/token`, {
        device_auth_id: code.deviceCode,
        user_code: code.userCode
      })
      assert.strictEqual(crossed.status, 400)
      assert.strictEqual(crossed.json.error.code, "invalid_request")
    })
  )

  it.scoped("slows down the next polls when asked", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* authorize(issuer)
      yield* issuer.setKnobs({ slowDownPolls: 2 })
      for (let i = 0; i < 2; i++) {
        const slow = yield* poll(issuer, code.deviceCode)
        assert.strictEqual(slow.status, 400)
        assert.strictEqual(slow.json.error, "slow_down")
      }
      assert.strictEqual((yield* poll(issuer, code.deviceCode)).json.error, "authorization_pending")
      assert.strictEqual((yield* issuer.stats).slowDown, 2)
      assert.strictEqual((yield* issuer.knobs).slowDownPolls, 0)
    })
  )

  it.scoped("answers access_denied after a denial on the page", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* authorize(issuer)
      const denied = yield* postForm(`${issuer.url}/device`, { user_code: code.userCode, action: "deny" })
      assert.strictEqual(denied.status, 200)
      const polled = yield* poll(issuer, code.deviceCode)
      assert.strictEqual(polled.status, 400)
      assert.deepStrictEqual(polled.json, { error: "access_denied", error_description: "The user denied the request." })
      assert.isFalse(yield* issuer.approve(code.userCode))
    })
  )

  it.scoped("answers expired_token after expire() or the code's lifetime", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ codeTtl: "2 minutes" })
      const first = yield* authorize(issuer)
      assert.isTrue(yield* issuer.expire(first.userCode))
      assert.isFalse(yield* issuer.expire(first.userCode))
      assert.isFalse(yield* issuer.approve(first.userCode))
      const expired = yield* poll(issuer, first.deviceCode)
      assert.strictEqual(expired.status, 400)
      assert.strictEqual(expired.json.error, "expired_token")

      const second = yield* authorize(issuer)
      yield* TestClock.adjust("2 minutes")
      assert.strictEqual((yield* poll(issuer, second.deviceCode)).json.error, "expired_token")
      assert.isFalse(yield* issuer.expire(second.userCode))
      assert.isFalse(yield* issuer.expire("ZZZZ-ZZZZZ"))
      assert.deepStrictEqual(
        (yield* issuer.codes).map((code) => code.status),
        ["expired", "expired"]
      )
    })
  )

  it.scoped("expire() works on codex codes too", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* postJson(`${issuer.url}/api/accounts/deviceauth/usercode`, { client_id: issuer.clientId })
      assert.isTrue(yield* issuer.expire(code.json.user_code))
      const polled = yield* postJson(`${issuer.url}/api/accounts/deviceauth/token`, {
        device_auth_id: code.json.device_auth_id,
        user_code: code.json.user_code
      })
      assert.strictEqual(polled.json.error.code, "expired_token")
    })
  )

  it.scoped("rotates refresh tokens and answers reuse with invalid_grant", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const first = yield* login(issuer)
      const rotated = yield* refresh(issuer, first.refresh_token)
      assert.strictEqual(rotated.status, 200)
      assert.notStrictEqual(rotated.json.refresh_token, first.refresh_token)
      assert.strictEqual(rotated.json.token_type, "Bearer")
      assert.strictEqual(rotated.json.scope, "openid profile email offline_access")
      assert.strictEqual(payload(rotated.json.id_token).aud, issuer.oidcClientId)

      const reused = yield* refresh(issuer, first.refresh_token)
      assert.strictEqual(reused.status, 400)
      assert.strictEqual(reused.json.error, "invalid_grant")
      const unknown = yield* refresh(issuer, "rt_unknown")
      assert.strictEqual(unknown.status, 400)
      assert.strictEqual(unknown.json.error, "invalid_grant")
      const otherClient = yield* refresh(issuer, rotated.json.refresh_token, CODEX_CLIENT_ID)
      assert.strictEqual(otherClient.status, 400)
      assert.strictEqual(otherClient.json.error, "invalid_grant")
      const unknownClient = yield* refresh(issuer, rotated.json.refresh_token, "nope")
      assert.strictEqual(unknownClient.status, 400)
      assert.strictEqual(unknownClient.json.error, "invalid_client")

      const byJson = yield* postJson(`${issuer.url}/oauth/token`, {
        grant_type: "refresh_token",
        refresh_token: rotated.json.refresh_token,
        client_id: issuer.oidcClientId
      })
      assert.strictEqual(byJson.status, 200)
      const stats = yield* issuer.stats
      assert.strictEqual(stats.refresh, 6)
      assert.strictEqual(stats.refreshTokenReused, 1)
    })
  )

  it.scoped("revokes by an RFC 7009 form, after which refresh fails", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const tokens = yield* login(issuer)

      const unknownClient = yield* postForm(`${issuer.url}/oauth/revoke`, {
        token: tokens.refresh_token,
        client_id: "nope"
      })
      assert.strictEqual(unknownClient.status, 400)
      assert.strictEqual(unknownClient.json.error, "invalid_client")
      // Another client's token is left alone, though the answer is 200 (RFC 7009 §2.1–2.2).
      const otherClient = yield* postForm(`${issuer.url}/oauth/revoke`, {
        token: tokens.refresh_token,
        client_id: CODEX_CLIENT_ID
      })
      assert.strictEqual(otherClient.status, 200)

      const revoked = yield* postForm(`${issuer.url}/oauth/revoke`, {
        token: tokens.refresh_token,
        token_type_hint: "refresh_token",
        client_id: issuer.oidcClientId
      })
      assert.strictEqual(revoked.status, 200)
      const unknownToken = yield* postForm(`${issuer.url}/oauth/revoke`, {
        token: "rt_unknown",
        client_id: issuer.oidcClientId
      })
      assert.strictEqual(unknownToken.status, 200)

      const after = yield* refresh(issuer, tokens.refresh_token)
      assert.strictEqual(after.status, 400)
      assert.strictEqual(after.json.error, "invalid_grant")
      assert.strictEqual((yield* issuer.stats).revoke, 4)
    })
  )

  it.scoped("auto-approves RFC 8628 codes too", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ autoApproveAfter: "20 millis" })
      const code = yield* authorize(issuer)
      let answer = yield* poll(issuer, code.deviceCode)
      while (answer.json.error === "authorization_pending") {
        yield* pause(5)
        answer = yield* poll(issuer, code.deviceCode)
      }
      assert.strictEqual(answer.status, 200)
    })
  )

  it.scoped("answers 404 at device authorization when device-code login is disabled", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ deviceCodeDisabled: true })
      assert.strictEqual((yield* authorize(issuer)).answer.status, 404)
      assert.strictEqual((yield* request(`${issuer.url}/oauth/device/code`)).status, 405)
    })
  )
})
