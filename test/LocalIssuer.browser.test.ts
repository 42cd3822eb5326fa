import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, TestClock } from "effect"
import { decodeJwtPayload } from "../src/domain/IdTokenClaims.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type Answer, postForm, request } from "./support/http.js"

// The browser login's sign-in page (`/oauth/authorize`) and authorization-code grant of both dialects, over loopback:
// a test plays the browser (the page's form POSTed back as it is) and the client (the callback's parameters, the
// exchange).

const REDIRECT = "http://127.0.0.1:49152/callback"
const VERIFIER = Buffer.alloc(32, 7).toString("base64url")
const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
const ID_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:id_token"

/** An OpenID Connect authorization request with PKCE and a nonce (RFC 6749 §4.1.1, RFC 7636 §4.3). */
const oidcRequest = (issuer: LocalIssuer.LocalIssuer, fields: Record<string, string> = {}): Record<string, string> => ({
  response_type: "code",
  client_id: issuer.oidcClientId,
  redirect_uri: REDIRECT,
  scope: "openid profile email offline_access",
  state: "state-1",
  code_challenge: s256Challenge(VERIFIER),
  code_challenge_method: "S256",
  nonce: "nonce-1",
  ...fields
})

/** Codex's authorization request (its parameters, a loopback redirect_uri of our own). */
const codexRequest = (issuer: LocalIssuer.LocalIssuer): Record<string, string> => ({
  response_type: "code",
  client_id: issuer.clientId,
  redirect_uri: REDIRECT,
  code_challenge: s256Challenge(VERIFIER),
  code_challenge_method: "S256",
  state: "codex-state",
  scope: "openid profile email offline_access",
  id_token_add_organizations: "true",
  codex_cli_simplified_flow: "true",
  originator: "codex_cli_rs"
})

const showPage = (issuer: LocalIssuer.LocalIssuer, params: Record<string, string>) =>
  request(`${issuer.url}/oauth/authorize?${new URLSearchParams(params)}`, { redirect: "manual" })

const post = (issuer: LocalIssuer.LocalIssuer, fields: ReadonlyArray<readonly [string, string]>) =>
  request(`${issuer.url}/oauth/authorize`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields.map(([name, value]): [string, string] => [name, value])).toString(),
    redirect: "manual"
  })

/** The page's hidden fields, in order, as a browser submits them. */
const hiddenFields = (html: string): ReadonlyArray<readonly [string, string]> => {
  const unescape = (text: string) => text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
  return [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
    (match) => [unescape(match[1]!), unescape(match[2]!)] as const
  )
}

/** What a browser does: shows the page for the request, then clicks Approve or Deny; the redirect is not followed. */
const click = (issuer: LocalIssuer.LocalIssuer, params: Record<string, string>, action: "approve" | "deny") =>
  Effect.gen(function* () {
    const page = yield* showPage(issuer, params)
    assert.strictEqual(page.status, 200)
    return yield* post(issuer, [...hiddenFields(page.text), ["action", action]])
  })

/** Where a 302 sends the browser: the redirect_uri, and the parameters it adds, in order. */
const redirected = (answer: Answer) => {
  assert.strictEqual(answer.status, 302)
  const location = new URL(answer.headers.get("location") ?? "")
  return { target: `${location.origin}${location.pathname}`, params: [...location.searchParams] }
}

/** Approve, and the code the redirect carries. */
const approvedCode = (issuer: LocalIssuer.LocalIssuer, params: Record<string, string>) =>
  Effect.map(click(issuer, params, "approve"), (answer) => {
    const code = new URL(answer.headers.get("location") ?? "").searchParams.get("code")
    assert.isString(code)
    return code!
  })

const exchange = (issuer: LocalIssuer.LocalIssuer, fields: Record<string, string>) =>
  postForm(`${issuer.url}/oauth/token`, {
    grant_type: "authorization_code",
    client_id: issuer.oidcClientId,
    redirect_uri: REDIRECT,
    code_verifier: VERIFIER,
    ...fields
  })

const payload = (jwt: string): Record<string, unknown> => Either.getOrThrow(decodeJwtPayload(jwt))

const discoveryPaths = ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"]

describe("LocalIssuer browser sign-in (RFC 8628 dialect)", () => {
  it.scoped("discovery advertises the sign-in page and RFC 9207's iss, with or without the device endpoint", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const documents = Effect.forEach(discoveryPaths, (path) =>
        Effect.map(request(`${issuer.url}${path}`), (answer) => answer.json)
      )
      for (const doc of yield* documents) {
        assert.strictEqual(doc.authorization_endpoint, `${issuer.url}/oauth/authorize`)
        assert.strictEqual(doc.authorization_response_iss_parameter_supported, true)
        assert.include(doc.grant_types_supported, "authorization_code")
        assert.deepStrictEqual(doc.code_challenge_methods_supported, ["S256"])
        assert.include(doc.claims_supported, "nonce")
      }

      yield* issuer.setKnobs({ discovery: "no-device-endpoint" })
      for (const doc of yield* documents) {
        assert.isFalse("device_authorization_endpoint" in doc)
        assert.strictEqual(doc.authorization_endpoint, `${issuer.url}/oauth/authorize`)
        assert.strictEqual(doc.authorization_response_iss_parameter_supported, true)
        assert.include(doc.grant_types_supported, "authorization_code")
      }

      yield* issuer.setKnobs({ discovery: "no-authorize-endpoint" })
      for (const doc of yield* documents) {
        assert.strictEqual(doc.issuer, issuer.url)
        assert.isFalse("authorization_endpoint" in doc)
        assert.isFalse("authorization_response_iss_parameter_supported" in doc)
        assert.notInclude(doc.grant_types_supported, "authorization_code")
        assert.strictEqual(doc.device_authorization_endpoint, `${issuer.url}/oauth/device/code`)
      }
    })
  )

  it.scoped("shows the request in the page's hidden fields; a bad request is answered 400 and never redirected", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const params = oidcRequest(issuer, { state: `a"b<c>&d` })
      const page = yield* showPage(issuer, params)
      assert.strictEqual(page.status, 200)
      assert.include(page.headers.get("content-type"), "text/html")
      assert.include(page.text, `<form method="post" action="/oauth/authorize">`)
      assert.include(page.text, `<code>${REDIRECT}</code>`)
      assert.notInclude(page.text, `a"b<c>`, "what it echoes is escaped")
      assert.deepStrictEqual(hiddenFields(page.text), Object.entries(params))
      assert.include(page.text, `name="action" value="approve"`)
      assert.include(page.text, `name="action" value="deny"`)

      const bad: ReadonlyArray<readonly [string, Record<string, string>]> = [
        ["an https redirect_uri", oidcRequest(issuer, { redirect_uri: "https://127.0.0.1:49152/callback" })],
        ["a redirect_uri off loopback", oidcRequest(issuer, { redirect_uri: "http://evil.example/callback" })],
        ["a redirect_uri that is no URL", oidcRequest(issuer, { redirect_uri: "callback" })],
        ["another client", oidcRequest(issuer, { client_id: "someone-else" })],
        ["response_type token", oidcRequest(issuer, { response_type: "token" })],
        ["a plain challenge", oidcRequest(issuer, { code_challenge_method: "plain" })],
        ["no challenge", oidcRequest(issuer, { code_challenge: "" })]
      ]
      const { code_challenge_method: _method, ...noMethod } = oidcRequest(issuer)
      for (const [what, params] of [...bad, ["no challenge method", noMethod] as const]) {
        for (const answer of [
          yield* showPage(issuer, params),
          yield* post(issuer, [...Object.entries(params), ["action", "approve"]]),
          yield* post(issuer, [...Object.entries(params), ["action", "deny"]])
        ]) {
          assert.strictEqual(answer.status, 400, what)
          assert.isNull(answer.headers.get("location"), what)
          assert.include(answer.text, "Bad sign-in request", what)
        }
      }
      const stats = yield* issuer.stats
      assert.strictEqual(stats.authorizePage, 1 + 3 * (bad.length + 1))
      assert.strictEqual(stats.exchange, 0)
    })
  )

  it.scoped("Approve redirects with code, state and iss; Deny with access_denied, its description, state and iss", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const approved = redirected(yield* click(issuer, oidcRequest(issuer), "approve"))
      assert.strictEqual(approved.target, REDIRECT)
      assert.deepStrictEqual(
        approved.params.map(([name]) => name),
        ["code", "state", "iss"]
      )
      assert.match(approved.params[0]![1], /^ac_[A-Za-z0-9_-]{43}$/)
      assert.deepStrictEqual(approved.params.slice(1), [
        ["state", "state-1"],
        ["iss", issuer.url]
      ])

      const denied = redirected(yield* click(issuer, oidcRequest(issuer), "deny"))
      assert.strictEqual(denied.target, REDIRECT)
      assert.deepStrictEqual(denied.params, [
        ["error", "access_denied"],
        ["error_description", "The sign-in was denied."],
        ["state", "state-1"],
        ["iss", issuer.url]
      ])

      const { state: _state, ...stateless } = oidcRequest(issuer)
      assert.deepStrictEqual(
        redirected(yield* click(issuer, stateless, "approve")).params.map(([name]) => name),
        ["code", "iss"],
        "no state asked, none sent"
      )
      assert.strictEqual((yield* issuer.stats).authorizePage, 6)
    })
  )

  it.scoped(
    "exchanges a code once, for its verifier, redirect_uri and client, into tokens with its scope and nonce",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ email: "ada@example.com", name: "Ada Lovelace" })
        const code = yield* approvedCode(issuer, oidcRequest(issuer, { scope: "email openid unknown_scope" }))

        const refused: ReadonlyArray<readonly [string, Record<string, string>]> = [
          ["another verifier", { code, code_verifier: Buffer.alloc(32, 8).toString("base64url") }],
          ["no verifier", { code, code_verifier: "" }],
          ["another redirect_uri", { code, redirect_uri: "http://127.0.0.1:49153/callback" }],
          ["codex's client", { code, client_id: issuer.clientId }],
          ["an unknown code", { code: `${code}x` }]
        ]
        for (const [what, fields] of refused) {
          const answer = yield* exchange(issuer, fields)
          assert.strictEqual(answer.status, 400, what)
          assert.strictEqual(answer.json.error, "invalid_grant", what)
        }

        const tokens = yield* exchange(issuer, { code })
        assert.strictEqual(tokens.status, 200)
        assert.strictEqual(tokens.json.token_type, "Bearer")
        assert.strictEqual(tokens.json.scope, "openid email", "the supported scopes asked for")
        assert.match(tokens.json.refresh_token, /^rt_/)
        const claims = payload(tokens.json.id_token)
        assert.strictEqual(claims.iss, issuer.url)
        assert.strictEqual(claims.aud, issuer.oidcClientId)
        assert.strictEqual(claims.name, "Ada Lovelace")
        assert.strictEqual(claims.nonce, "nonce-1")
        assert.isFalse("https://api.openai.com/auth" in claims, "a token of the RFC 8628 dialect, not codex's")
        const access = yield* issuer.verifyAccessToken(tokens.json.access_token)
        assert.strictEqual(Option.getOrThrow(access).client_id, issuer.oidcClientId)
        assert.strictEqual(Option.getOrThrow(access).scope, "openid email")

        const reused = yield* exchange(issuer, { code })
        assert.strictEqual(reused.status, 400)
        assert.strictEqual(reused.json.error, "invalid_grant")
        assert.match(reused.json.error_description, /already used/)

        // a refresh answers no sign-in request: its id_token carries no nonce
        const refreshed = yield* postForm(`${issuer.url}/oauth/token`, {
          grant_type: "refresh_token",
          client_id: issuer.oidcClientId,
          refresh_token: tokens.json.refresh_token
        })
        assert.strictEqual(refreshed.status, 200)
        assert.strictEqual(refreshed.json.scope, "openid email")
        assert.isFalse("nonce" in payload(refreshed.json.id_token))

        assert.strictEqual((yield* issuer.stats).exchange, refused.length + 2)
        const grants = (yield* issuer.requests).filter((entry) => entry.path === "/oauth/token")
        assert.deepStrictEqual(grants.map((entry) => entry.grantType).slice(0, refused.length + 2), [
          ...refused.map(() => "authorization_code"),
          "authorization_code",
          "authorization_code"
        ])
      })
  )

  it.scoped("a code lasts 10 minutes on the Effect clock", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const first = yield* approvedCode(issuer, oidcRequest(issuer))
      const second = yield* approvedCode(issuer, oidcRequest(issuer))
      yield* TestClock.adjust("599999 millis")
      assert.strictEqual((yield* exchange(issuer, { code: first })).status, 200)
      yield* TestClock.adjust("1 millis")
      const expired = yield* exchange(issuer, { code: second })
      assert.strictEqual(expired.status, 400)
      assert.deepStrictEqual(expired.json, {
        error: "invalid_grant",
        error_description: "The authorization code has expired."
      })
    })
  )

  it.scoped("the id_token's nonce: the one asked for, another one, or none, as the idTokenNonce knob says", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const nonceOf = (params: Record<string, string>) =>
        Effect.gen(function* () {
          const code = yield* approvedCode(issuer, params)
          const tokens = yield* exchange(issuer, { code })
          assert.strictEqual(tokens.status, 200)
          return payload(tokens.json.id_token).nonce
        })
      const { nonce: _nonce, ...withoutNonce } = oidcRequest(issuer)

      assert.strictEqual(yield* nonceOf(oidcRequest(issuer, { nonce: "n-echo" })), "n-echo")
      assert.isUndefined(yield* nonceOf(withoutNonce), "none asked, none given")

      yield* issuer.setKnobs({ idTokenNonce: "wrong" })
      const wrong = yield* nonceOf(oidcRequest(issuer, { nonce: "n-wrong" }))
      assert.isString(wrong)
      assert.notStrictEqual(wrong, "n-wrong")
      assert.isString(yield* nonceOf(withoutNonce), "one given even when none was asked")

      yield* issuer.setKnobs({ idTokenNonce: "missing" })
      assert.isUndefined(yield* nonceOf(oidcRequest(issuer, { nonce: "n-missing" })))

      yield* issuer.setKnobs({ idTokenNonce: "echo" })
      assert.strictEqual(yield* nonceOf(oidcRequest(issuer, { nonce: "n-again" })), "n-again")
    })
  )

  it.scoped("the redirect's iss: the issuer, another URL, or none, as the authorizeIss knob says", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const issOf = (action: "approve" | "deny") =>
        Effect.map(click(issuer, oidcRequest(issuer), action), (answer) =>
          redirected(answer).params.filter(([name]) => name === "iss")
        )

      yield* issuer.setKnobs({ authorizeIss: "wrong" })
      for (const action of ["approve", "deny"] as const) {
        assert.deepStrictEqual(yield* issOf(action), [["iss", LocalIssuer.WRONG_ISSUER]], action)
      }
      assert.notStrictEqual(LocalIssuer.WRONG_ISSUER, issuer.url)

      yield* issuer.setKnobs({ authorizeIss: "missing" })
      for (const action of ["approve", "deny"] as const) {
        assert.deepStrictEqual(yield* issOf(action), [], action)
      }

      yield* issuer.setKnobs({ authorizeIss: "normal" })
      assert.deepStrictEqual(yield* issOf("approve"), [["iss", issuer.url]])
    })
  )
})

describe("LocalIssuer browser sign-in (both dialects)", () => {
  it.scoped("codex's redirect carries code, scope and state, never iss; its code is exchanged by codex's client", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const params = codexRequest(issuer)
      const approved = redirected(yield* click(issuer, params, "approve"))
      assert.strictEqual(approved.target, REDIRECT)
      assert.deepStrictEqual(
        approved.params.map(([name]) => name),
        ["code", "scope", "state"]
      )
      assert.deepStrictEqual(approved.params.slice(1), [
        ["scope", params.scope!],
        ["state", "codex-state"]
      ])
      const code = approved.params[0]![1]

      const asOidc = yield* exchange(issuer, { code })
      assert.strictEqual(asOidc.status, 400, "a codex code is not the OIDC client's")
      assert.strictEqual(asOidc.json.error, "invalid_grant")
      const tokens = yield* exchange(issuer, { code, client_id: issuer.clientId })
      assert.strictEqual(tokens.status, 200)
      const claims = payload(tokens.json.id_token)
      assert.strictEqual(claims.aud, issuer.clientId)
      assert.isObject(claims["https://api.openai.com/auth"], "a token of codex's dialect")
      assert.isFalse("nonce" in claims)

      yield* issuer.setKnobs({ authorizeIss: "wrong" })
      assert.deepStrictEqual(redirected(yield* click(issuer, params, "deny")).params, [
        ["error", "access_denied"],
        ["error_description", "The sign-in was denied."],
        ["state", "codex-state"]
      ])
      const stats = yield* issuer.stats
      assert.strictEqual(stats.authorizePage, 4)
      assert.strictEqual(stats.exchange, 2)
    })
  )

  it.scoped("an Approve answers the authorizeError knob's error instead of a code, in either dialect", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ authorizeError: { error: "access_denied", description: "missing_codex_entitlement" } })
      assert.deepStrictEqual(redirected(yield* click(issuer, codexRequest(issuer), "approve")).params, [
        ["error", "access_denied"],
        ["error_description", "missing_codex_entitlement"],
        ["state", "codex-state"]
      ])
      assert.deepStrictEqual(redirected(yield* click(issuer, oidcRequest(issuer), "approve")).params, [
        ["error", "access_denied"],
        ["error_description", "missing_codex_entitlement"],
        ["state", "state-1"],
        ["iss", issuer.url]
      ])

      yield* issuer.setKnobs({ authorizeError: { error: "temporarily_unavailable" } })
      assert.deepStrictEqual(redirected(yield* click(issuer, oidcRequest(issuer), "approve")).params, [
        ["error", "temporarily_unavailable"],
        ["state", "state-1"],
        ["iss", issuer.url]
      ])
      // a Deny still says it was denied
      assert.deepStrictEqual(redirected(yield* click(issuer, oidcRequest(issuer), "deny")).params[1], [
        "error_description",
        "The sign-in was denied."
      ])

      yield* issuer.setKnobs({ authorizeError: null })
      const code = yield* approvedCode(issuer, oidcRequest(issuer))
      assert.strictEqual((yield* exchange(issuer, { code })).status, 200)
    })
  )

  it.scoped("codex's token exchange takes codex's wire only, and answers invalid_grant under apiKeyExchange fail", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const code = yield* approvedCode(issuer, codexRequest(issuer))
      const tokens = yield* exchange(issuer, { code, client_id: issuer.clientId })
      assert.strictEqual(tokens.status, 200)
      const wire = {
        grant_type: TOKEN_EXCHANGE_GRANT,
        client_id: issuer.clientId,
        requested_token: "openai-api-key",
        subject_token: tokens.json.id_token as string,
        subject_token_type: ID_TOKEN_TYPE
      }
      const tokenExchange = (fields: Record<string, string> = {}) =>
        postForm(`${issuer.url}/oauth/token`, { ...wire, ...fields })

      const ok = yield* tokenExchange()
      assert.strictEqual(ok.status, 200)
      assert.match(ok.json.access_token, /^sk-local-[A-Za-z0-9_-]{32}$/)

      const refused: ReadonlyArray<readonly [Record<string, string>, string]> = [
        [{ requested_token: "access_token" }, "invalid_request"],
        [{ requested_token: "" }, "invalid_request"],
        [{ subject_token_type: "urn:ietf:params:oauth:token-type:access_token" }, "invalid_request"],
        [{ subject_token: `${wire.subject_token}x` }, "invalid_grant"],
        [{ client_id: issuer.oidcClientId }, "invalid_client"]
      ]
      for (const [fields, error] of refused) {
        const answer = yield* tokenExchange(fields)
        assert.strictEqual(answer.status, 400, Object.keys(fields).join())
        assert.strictEqual(answer.json.error, error, Object.keys(fields).join())
        assert.notProperty(answer.json, "access_token")
      }

      yield* issuer.setKnobs({ apiKeyExchange: "fail" })
      const failed = yield* tokenExchange()
      assert.strictEqual(failed.status, 400)
      assert.strictEqual(failed.json.error, "invalid_grant")
      assert.notProperty(failed.json, "access_token")

      yield* issuer.setKnobs({ apiKeyExchange: "normal" })
      assert.strictEqual((yield* tokenExchange()).status, 200)
      assert.strictEqual((yield* issuer.stats).tokenExchange, refused.length + 3)
    })
  )
})
