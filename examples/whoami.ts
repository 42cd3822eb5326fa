// An Effect app that signs in with devicecode and calls a protected API with fresh tokens.
//
// It runs against the embedded LocalIssuer from the test kit, so it needs no network: `npm run example`.
// Against the real ChatGPT issuer, drop the LocalIssuer part, use CodexIssuer.layer() and FileStore (see README).
import { HttpClientResponse } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Console, Effect, Layer, Option, Schema } from "effect"
import {
  AuthenticatedHttpClient,
  AuthSession,
  AuthSessionLive,
  CodexIssuer,
  IssuerResolverLive,
  login,
  PkceLive,
  type LoginEvent,
  MemoryStore,
  WorkspacePolicyLive
} from "devicecode"
import { LocalIssuer, submitUserCode } from "devicecode/testing"

/** The protected resource's answer. */
const Me = Schema.Struct({ account_id: Schema.String, expires_at: Schema.String })

const onEvent = (event: LoginEvent): Effect.Effect<void> =>
  event._tag === "CodeIssued"
    ? Console.log(`1. Sign-in: open ${event.code.verificationUri} and enter ${event.code.userCode}`)
    : Effect.void

const program = Effect.gen(function* () {
  // The issuer's first access token is born expired, so the first API call has to refresh it.
  const issuer = yield* LocalIssuer.make({ interval: 1, accessTokenTtl: 0 })

  // The person at the browser: here the test kit's stand-in approves the code through the page.
  yield* issuer.nextCode.pipe(
    Effect.flatMap((userCode) => submitUserCode(`${issuer.url}/codex/device`, userCode)),
    Effect.forkScoped
  )

  // One store for the login and for the session (tokens held in memory only).
  const Store = MemoryStore.layer()
  const Http = NodeHttpClient.layer
  const Login = Layer.mergeAll(
    CodexIssuer.layer({ issuer: issuer.url }),
    PkceLive.layer,
    WorkspacePolicyLive.layer(Option.none())
  )
  const Session = AuthSessionLive.layer().pipe(Layer.provide(IssuerResolverLive.layer))
  const Api = AuthenticatedHttpClient.layer.pipe(Layer.provideMerge(Session))
  const App = Layer.mergeAll(Login, Api).pipe(Layer.provideMerge(Store), Layer.provideMerge(Http))

  yield* Effect.gen(function* () {
    const signedIn = yield* login({ onEvent })
    yield* Console.log(`2. Signed in as ${Option.getOrElse(signedIn.claims.email, () => "?")}`)
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })

    const session = yield* AuthSession
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
  }).pipe(Effect.provide(App))
})

Effect.runPromise(Effect.scoped(program)).catch((error) => {
  process.stderr.write(`whoami failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
