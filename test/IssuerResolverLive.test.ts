import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../src/domain/CodexWire.js"
import { SignInOrigin } from "../src/domain/StoredAuth.js"
import * as IssuerResolverLive from "../src/layers/IssuerResolverLive.js"
import { DeviceAuthorization } from "../src/services/DeviceAuthorization.js"
import { IssuerResolver } from "../src/services/IssuerResolver.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import { fakeClient, json } from "./support/fakeHttp.js"

const OIDC = "https://id.example.com"

describe("IssuerResolverLive", () => {
  it.effect("resolves each origin to its dialect and issuer, made once per origin", () =>
    Effect.gen(function* () {
      const fake = fakeClient((request) =>
        request.url.endsWith("/.well-known/openid-configuration")
          ? json(200, { issuer: OIDC, token_endpoint: `${OIDC}/token` })
          : json(200, { access_token: "at-2", expires_in: 60 })
      )
      const resolver = yield* IssuerResolverLive.make.pipe(Effect.provideService(HttpClient.HttpClient, fake.client))

      const codex = yield* resolver.forSignIn(Option.none())
      assert.strictEqual(codex.dialect, "codex")
      assert.strictEqual(codex.issuer, CODEX_DEFAULT_ISSUER)
      assert.strictEqual(codex.clientId, CODEX_CLIENT_ID)
      assert.strictEqual(yield* resolver.forSignIn(Option.none()), codex)

      const custom = yield* resolver.forSignIn(
        Option.some(
          new SignInOrigin({ dialect: "codex", issuer: "http://127.0.0.1:9/", clientId: "app_x", scope: Option.none() })
        )
      )
      assert.strictEqual(custom.issuer, "http://127.0.0.1:9")
      assert.strictEqual(custom.clientId, "app_x")

      const origin = new SignInOrigin({
        dialect: "rfc8628",
        issuer: OIDC,
        clientId: "cli",
        scope: Option.some("openid")
      })
      const oidc = yield* resolver.forSignIn(Option.some(origin))
      assert.strictEqual(oidc.dialect, "rfc8628")
      assert.deepStrictEqual(oidc.scope, Option.some("openid"))
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
      const resolver = yield* IssuerResolverLive.make.pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
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

  it.effect("fixed always answers with the DeviceAuthorization in context", () =>
    Effect.gen(function* () {
      const scripted = yield* ScriptedIssuer.make()
      const resolver = yield* IssuerResolver.pipe(
        Effect.provide(IssuerResolverLive.fixed.pipe(Layer.provide(scripted.layer)))
      )
      const origin = new SignInOrigin({ dialect: "rfc8628", issuer: OIDC, clientId: "cli", scope: Option.none() })
      assert.strictEqual(yield* resolver.forSignIn(Option.some(origin)), scripted.service)
      assert.strictEqual(yield* resolver.forSignIn(Option.none()), scripted.service)
      assert.strictEqual(yield* DeviceAuthorization.pipe(Effect.provide(scripted.layer)), scripted.service)
    })
  )
})
