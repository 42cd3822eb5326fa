// An Effect app that signs in with devicecode and calls a protected API with fresh tokens.
//
// It runs against the embedded LocalIssuer from the test kit, so it needs no network: `npm run example`.
// Against the real ChatGPT issuer, drop the LocalIssuer part and use `DeviceCodeAuth.layerNode()` (see README).
import { FileSystem, HttpClientResponse } from "@effect/platform"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Console, Effect, Option, Schema } from "effect"
import { AuthenticatedHttpClient, AuthSession, DeviceCodeAuth, Login, type LoginEvent } from "devicecode"
import { LocalIssuer, submitUserCode } from "devicecode/testing"

/** The protected resource's answer. */
const Me = Schema.Struct({ account_id: Schema.String, expires_at: Schema.String })

const onEvent = (event: LoginEvent.LoginEvent): Effect.Effect<void> =>
  event._tag === "CodeIssued"
    ? Console.log(`1. Sign-in: open ${event.code.verificationUri} and enter ${event.code.userCode}`)
    : Effect.void

const program = Effect.gen(function* () {
  // The issuer's first access token is born expired, so the first API call has to refresh it.
  const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })

  // The person at the browser: here the test kit's stand-in approves the code through the page.
  yield* issuer.nextCode.pipe(
    Effect.flatMap((userCode) => submitUserCode(`${issuer.url}/codex/device`, userCode)),
    Effect.forkScoped
  )

  // A CODEX_HOME of its own, so no config.toml of yours applies; the sign-in is kept in memory only.
  const codexHome = yield* Effect.flatMap(FileSystem.FileSystem, (fs) => fs.makeTempDirectoryScoped())
  const Auth = DeviceCodeAuth.layerNode({ codexHome, store: "ephemeral", issuer: issuer.url })

  yield* Effect.gen(function* () {
    const signedIn = yield* Login.login({ onEvent })
    yield* Console.log(`2. Signed in as ${Option.getOrElse(signedIn.claims.email, () => "?")}`)
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })

    const session = yield* AuthSession.AuthSession
    const account = yield* session.account
    yield* Console.log(`3. Account ${Option.getOrElse(account.accountId, () => "?")} (${account.dialect} dialect)`)

    const api = yield* AuthenticatedHttpClient.AuthenticatedHttpClient
    const me = yield* api.get(`${issuer.url}/v1/me`).pipe(Effect.flatMap(HttpClientResponse.filterStatusOk))
    const body = yield* HttpClientResponse.schemaBodyJson(Me)(me)
    yield* Console.log(
      `4. GET /v1/me -> ${me.status}: account ${body.account_id}, token valid until ${body.expires_at}`
    )

    const again = yield* api.get(`${issuer.url}/v1/me`)
    const stats = yield* issuer.stats
    yield* Console.log(
      `5. Again -> ${again.status}; refresh requests so far: ${stats.refresh} (the second call used the cached token)`
    )
  }).pipe(Effect.provide(Auth))
})

program.pipe(Effect.scoped, Effect.provide(NodeContext.layer), NodeRuntime.runMain)
