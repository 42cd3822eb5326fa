import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../src/domain/CodexWire.js"
import { SignInOrigin } from "../src/domain/StoredAuth.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import { IssuerClient } from "../src/services/IssuerClient.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import { fakeClient, json } from "./support/fakeHttp.js"

const OIDC = "https://id.example.com"

describe("IssuerResolver", () => {
  it.effect("resolves each origin to its dialect and issuer, made once per origin", () =>
    Effect.gen(function* () {
      const fake = fakeClient((request) =>
        request.url.endsWith("/.well-known/openid-configuration")
          ? json(200, { issuer: OIDC, token_endpoint: `${OIDC}/token` })
          : json(200, { access_token: "at-2", expires_in: 60 })
      )
      const resolver = yield* IssuerResolver.make.pipe(Effect.provideService(HttpClient.HttpClient, fake.client))

      const codex = yield* resolver.forSignIn(Option.none())
      assert.strictEqual(codex.issuer, CODEX_DEFAULT_ISSUER)
      // codex's client: its requests name the workspace
      assert.deepStrictEqual(codex.requestHeaders(Option.some("acct_1")), { "ChatGPT-Account-Id": "acct_1" })
      assert.strictEqual(yield* resolver.forSignIn(Option.none()), codex)
      yield* codex.refresh(Redacted.make("rt-0"))
      assert.include(fake.requests[0]!.body, `"client_id":"${CODEX_CLIENT_ID}"`)

      const custom = yield* resolver.forSignIn(
        Option.some(
          new SignInOrigin({ dialect: "codex", issuer: "http://127.0.0.1:9/", clientId: "app_x", scope: Option.none() })
        )
      )
      assert.strictEqual(custom.issuer, "http://127.0.0.1:9")
      yield* custom.refresh(Redacted.make("rt-0"))
      assert.strictEqual(fake.requests[1]!.url, "http://127.0.0.1:9/oauth/token")
      assert.include(fake.requests[1]!.body, `"client_id":"app_x"`)

      const origin = new SignInOrigin({
        dialect: "rfc8628",
        issuer: OIDC,
        clientId: "cli",
        scope: Option.some("openid")
      })
      const oidc = yield* resolver.forSignIn(Option.some(origin))
      assert.strictEqual(oidc.issuer, OIDC)
      assert.deepStrictEqual(oidc.requestHeaders(Option.some("acct_1")), {})
      const again = yield* resolver.forSignIn(Option.some(new SignInOrigin({ ...origin })))
      assert.strictEqual(again, oidc)
      yield* oidc.refresh(Redacted.make("rt-1"))
      yield* again.refresh(Redacted.make("rt-2"))
      assert.strictEqual(fake.requests.filter((r) => r.url.includes("/.well-known/")).length, 1)
    })
  )

  it.effect("a stored issuer no login would accept (plain http to a remote host, user:pass@) sends nothing", () =>
    Effect.gen(function* () {
      const fake = fakeClient(() => json(200, { access_token: "at-2" }))
      const resolver = yield* IssuerResolver.make.pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
      for (const issuer of ["http://auth.example.com", "https://user:secret@auth.example.com"]) {
        const refused = yield* resolver.forSignIn(
          Option.some(new SignInOrigin({ dialect: "codex", issuer, clientId: "app_x", scope: Option.none() }))
        )
        const error = yield* Effect.flip(refused.refresh(Redacted.make("rt-1")))
        assert.strictEqual(error.reason, "Misconfigured")
        assert.notInclude(error.message, "secret")
        assert.strictEqual((yield* Effect.flip(refused.revoke(Redacted.make("rt-1")))).reason, "Misconfigured")
      }
      assert.include(
        (yield* Effect.flip(
          (yield* resolver.forSignIn(
            Option.some(
              new SignInOrigin({
                dialect: "rfc8628",
                issuer: "http://id.example.com",
                clientId: "c",
                scope: Option.none()
              })
            )
          )).refresh(Redacted.make("rt-1"))
        )).message,
        "https"
      )
      assert.strictEqual(fake.requests.length, 0, "not a single request went out")
    })
  )

  it.effect("fixed always answers with the IssuerClient in context", () =>
    Effect.gen(function* () {
      const scripted = yield* ScriptedIssuer.make()
      const resolver = yield* IssuerResolver.IssuerResolver.pipe(
        Effect.provide(IssuerResolver.fixed.pipe(Layer.provide(Layer.succeed(IssuerClient, scripted.client))))
      )
      const origin = new SignInOrigin({ dialect: "rfc8628", issuer: OIDC, clientId: "cli", scope: Option.none() })
      assert.strictEqual(yield* resolver.forSignIn(Option.some(origin)), scripted.client)
      assert.strictEqual(yield* resolver.forSignIn(Option.none()), scripted.client)
      assert.strictEqual(yield* IssuerClient.pipe(Effect.provide(scripted.layer)), scripted.client)
    })
  )
})
