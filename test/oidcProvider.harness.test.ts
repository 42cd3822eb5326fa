import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { postForm, request } from "./support/http.js"
import { startOidcProvider } from "./support/oidcProvider.js"

const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
const SCOPE = "openid profile email offline_access"

const jwtPayload = (jwt: string): Record<string, any> =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString())

/** The provider, its discovery document, and the client's raw calls against the endpoints it names. */
const provider = (options?: Parameters<typeof startOidcProvider>[0]) =>
  Effect.gen(function* () {
    const op = yield* startOidcProvider(options)
    const discovery = yield* request(`${op.issuer}/.well-known/openid-configuration`)
    const doc = discovery.json
    return {
      op,
      discovery,
      authorize: (scope: string = SCOPE) =>
        postForm(doc.device_authorization_endpoint, { client_id: op.clientId, scope }),
      poll: (deviceCode: string) =>
        postForm(doc.token_endpoint, {
          grant_type: DEVICE_CODE_GRANT,
          device_code: deviceCode,
          client_id: op.clientId
        }),
      refresh: (refreshToken: string) =>
        postForm(doc.token_endpoint, {
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: op.clientId
        }),
      userinfo: (accessToken: string) =>
        request(doc.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } }),
      revoke: (token: string, hint: string) =>
        postForm(doc.revocation_endpoint, { token, token_type_hint: hint, client_id: op.clientId })
    }
  })

/** A device code approved through the provider's pages, and the tokens of the first successful poll. */
const signedIn = (client: Effect.Effect.Success<ReturnType<typeof provider>>) =>
  Effect.gen(function* () {
    const code = yield* client.authorize()
    yield* client.op.approve(code.json.user_code)
    const tokens = yield* client.poll(code.json.device_code)
    assert.strictEqual(tokens.status, 200, JSON.stringify(tokens.json.error))
    return { code, tokens: tokens.json }
  })

describe("oidc-provider test harness", () => {
  it.scopedLive("publishes discovery with the device, token and revocation endpoints under its issuer", () =>
    Effect.gen(function* () {
      const { op, discovery } = yield* provider()
      assert.strictEqual(discovery.status, 200)
      assert.match(op.issuer, /^http:\/\/127\.0\.0\.1:\d+$/)
      assert.strictEqual(discovery.json.issuer, op.issuer)
      assert.strictEqual(discovery.json.device_authorization_endpoint, `${op.issuer}/device/auth`)
      assert.strictEqual(discovery.json.token_endpoint, `${op.issuer}/token`)
      assert.strictEqual(discovery.json.revocation_endpoint, `${op.issuer}/token/revocation`)
      assert.include(discovery.json.grant_types_supported, DEVICE_CODE_GRANT)
      assert.include(discovery.json.grant_types_supported, "refresh_token")
    })
  )

  it.scopedLive("issues tokens once for a code approved through its own pages", () =>
    Effect.gen(function* () {
      const client = yield* provider()
      const { op } = client
      const code = yield* client.authorize()
      assert.strictEqual(code.status, 200)
      assert.isString(code.json.device_code)
      assert.match(code.json.user_code, /^[A-Z]{4}-[A-Z]{4}$/)
      assert.strictEqual(code.json.verification_uri, `${op.issuer}/device`)
      assert.strictEqual(
        code.json.verification_uri_complete,
        `${op.issuer}/device?user_code=${encodeURIComponent(code.json.user_code)}`
      )
      assert.strictEqual(code.json.expires_in, 600)

      const pending = yield* client.poll(code.json.device_code)
      assert.strictEqual(pending.status, 400)
      assert.strictEqual(pending.json.error, "authorization_pending")

      yield* op.approve(code.json.user_code)
      const tokens = yield* client.poll(code.json.device_code)
      assert.strictEqual(tokens.status, 200)
      assert.isString(tokens.json.access_token)
      assert.isString(tokens.json.refresh_token)
      assert.strictEqual(tokens.json.token_type, "Bearer")
      assert.strictEqual(tokens.json.expires_in, 3600)
      assert.deepStrictEqual(tokens.json.scope.split(" ").sort(), SCOPE.split(" ").sort())
      const claims = jwtPayload(tokens.json.id_token)
      assert.strictEqual(claims.iss, op.issuer)
      assert.strictEqual(claims.aud, op.clientId)
      assert.strictEqual(claims.sub, op.user.sub)
      assert.strictEqual(claims.email, op.user.email)
      assert.strictEqual(claims.email_verified, true)
      assert.strictEqual(claims.name, op.user.name)

      // A consumed device code is refused, and oidc-provider revokes the whole grant it issued.
      const again = yield* client.poll(code.json.device_code)
      assert.strictEqual(again.status, 400)
      assert.deepStrictEqual(again.json, { error: "invalid_grant", error_description: "grant request is invalid" })
      const afterReplay = yield* client.refresh(tokens.json.refresh_token)
      assert.strictEqual(afterReplay.json.error, "invalid_grant")

      const tokenCalls = (yield* op.requests).filter((seen) => seen.method === "POST" && seen.path === "/token")
      assert.strictEqual(tokenCalls.length, 4)
    })
  )

  it.scopedLive("rotates refresh tokens and refuses a rotated one", () =>
    Effect.gen(function* () {
      const client = yield* provider()
      const { tokens } = yield* signedIn(client)
      const first = yield* client.refresh(tokens.refresh_token)
      assert.strictEqual(first.status, 200)
      assert.isString(first.json.access_token)
      assert.notStrictEqual(first.json.access_token, tokens.access_token)
      assert.isString(first.json.refresh_token)
      assert.notStrictEqual(first.json.refresh_token, tokens.refresh_token, "public clients' refresh tokens rotate")
      assert.strictEqual(jwtPayload(first.json.id_token).email, client.op.user.email)

      const reused = yield* client.refresh(tokens.refresh_token)
      assert.strictEqual(reused.status, 400)
      assert.deepStrictEqual(reused.json, { error: "invalid_grant", error_description: "grant request is invalid" })
      // Reuse of a rotated token revokes the grant, so even the newest refresh token is dead now.
      const newest = yield* client.refresh(first.json.refresh_token)
      assert.strictEqual(newest.status, 400)
      assert.strictEqual(newest.json.error, "invalid_grant")
    })
  )

  it.scopedLive("revokes a refresh token (RFC 7009)", () =>
    Effect.gen(function* () {
      const client = yield* provider()
      const { tokens } = yield* signedIn(client)
      const before = yield* client.userinfo(tokens.access_token)
      assert.strictEqual(before.status, 200)
      assert.strictEqual(before.json.email, client.op.user.email)

      const revoked = yield* client.revoke(tokens.refresh_token, "refresh_token")
      assert.strictEqual(revoked.status, 200)
      const refreshed = yield* client.refresh(tokens.refresh_token)
      assert.strictEqual(refreshed.status, 400)
      assert.deepStrictEqual(refreshed.json, { error: "invalid_grant", error_description: "grant request is invalid" })
      // Revoking the refresh token revokes its whole grant, the access token included.
      const after = yield* client.userinfo(tokens.access_token)
      assert.strictEqual(after.status, 401)
      assert.strictEqual(after.json.error, "invalid_token")
      // RFC 7009 §2.2: an unknown token is still a 200.
      const unknown = yield* client.revoke("not-a-token", "refresh_token")
      assert.strictEqual(unknown.status, 200)
      const revocations = (yield* client.op.requests).filter((seen) => seen.path === "/token/revocation")
      assert.strictEqual(revocations.length, 2)
    })
  )

  it.scopedLive("records access_denied when the browser aborts at the confirmation page", () =>
    Effect.gen(function* () {
      const client = yield* provider()
      const code = yield* client.authorize()
      yield* client.op.deny(code.json.user_code)
      const denied = yield* client.poll(code.json.device_code)
      assert.strictEqual(denied.status, 400)
      assert.deepStrictEqual(denied.json, { error: "access_denied", error_description: "End-User aborted interaction" })
      const approveAfter = yield* Effect.flip(client.op.approve(code.json.user_code))
      assert.include(approveAfter.message, "The code you entered is incorrect")
    })
  )

  it.scopedLive("fails approve with a clear error for a code it never issued", () =>
    Effect.gen(function* () {
      const { op } = yield* provider()
      const error = yield* Effect.flip(op.approve("BCDF-GHJK"))
      assert.include(error.message, "entering user code BCDF-GHJK")
      assert.include(error.message, "The code you entered is incorrect")
    })
  )

  it.scopedLive("takes the device code and access token lifetimes from its options", () =>
    Effect.gen(function* () {
      const client = yield* provider({ deviceCodeTtlSeconds: 5, accessTokenTtlSeconds: 60 })
      const { code, tokens } = yield* signedIn(client)
      assert.strictEqual(code.json.expires_in, 5)
      assert.strictEqual(tokens.expires_in, 60)
    })
  )
})
