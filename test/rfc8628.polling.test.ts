import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import type { DeviceAuthError } from "../src/domain/Errors.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import { LoginFlow } from "../src/services/LoginFlow.js"
import { pollForAuthorization } from "../src/services/pollForAuthorization.js"
import { fakeClient, json, type Reply } from "./support/fakeHttp.js"

const ISSUER = "https://id.example.com"
const TOKEN = `${ISSUER}/oauth/token`
const DEVICE = `${ISSUER}/oauth/device`

const pending = json(400, { error: "authorization_pending" })
const slowDown = json(400, { error: "slow_down" })
const approved = json(200, { access_token: "at-1", refresh_token: "rt-1", expires_in: 3600 })

/**
 * An RFC 8628 provider over a fake HttpClient: the token endpoint answers `script` in order (the last answer
 * repeats), and the TestClock time of each poll, in seconds since the login started, is recorded.
 */
const loginWith = (script: ReadonlyArray<Reply>, device: Record<string, unknown> = {}) =>
  Effect.gen(function* () {
    const polls: Array<number> = []
    const fake = fakeClient((request) => {
      if (request.url.endsWith("/.well-known/openid-configuration")) {
        return json(200, { issuer: ISSUER, device_authorization_endpoint: DEVICE, token_endpoint: TOKEN })
      }
      if (request.url === DEVICE) {
        return json(200, { device_code: "dc-1", user_code: "ABCD", verification_uri: `${ISSUER}/device`, ...device })
      }
      return script[Math.min(polls.length - 1, script.length - 1)]!
    })
    const startedAt = yield* Clock.currentTimeMillis
    const client = HttpClient.tapRequest(fake.client, (request) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        if (request.url === TOKEN) polls.push((now - startedAt) / 1000)
      })
    )
    const flow = yield* OidcIssuer.makeLoginFlow({ issuer: ISSUER, clientId: "cli" }).pipe(
      Effect.provideService(HttpClient.HttpClient, client),
      Effect.provideService(Pkce.Pkce, Pkce.make)
    )
    const code = yield* flow.start
    const fiber = yield* pollForAuthorization(code).pipe(
      Effect.provideService(LoginFlow, flow),
      Effect.exit,
      Effect.fork
    )
    yield* Effect.yieldNow()
    return { fiber, polls }
  })

const failure = <A>(exit: Exit.Exit<A, DeviceAuthError>): DeviceAuthError => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a DeviceAuthError failure, got ${String(exit)}`)
}

describe("RFC 8628 polling", () => {
  it.effect("polls at once, then every interval until the tokens come", () =>
    Effect.gen(function* () {
      const { fiber, polls } = yield* loginWith([pending, pending, approved], { interval: 5, expires_in: 600 })
      yield* TestClock.adjust("4999 millis")
      assert.deepStrictEqual(polls, [0])
      yield* TestClock.adjust("1 millis")
      assert.deepStrictEqual(polls, [0, 5])
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.deepStrictEqual(polls, [0, 5, 10])
      assert.isTrue(Exit.isSuccess(exit))
      if (!Exit.isSuccess(exit) || exit.value._tag !== "Tokens") return assert.fail("expected a Tokens grant")
      assert.strictEqual(Redacted.value(exit.value.tokens.accessToken), "at-1")
    })
  )

  it.effect("adds 5 s to the interval for each slow_down, for the rest of the login", () =>
    Effect.gen(function* () {
      const { fiber, polls } = yield* loginWith([slowDown, slowDown, pending, approved], {
        interval: 5,
        expires_in: 600
      })
      yield* TestClock.adjust("9 seconds")
      assert.deepStrictEqual(polls, [0])
      yield* TestClock.adjust("31 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.deepStrictEqual(polls, [0, 10, 25, 40])
      assert.isTrue(Exit.isSuccess(exit))
    })
  )

  it.effect("fails Denied when the person says no", () =>
    Effect.gen(function* () {
      const { fiber, polls } = yield* loginWith([
        pending,
        json(400, { error: "access_denied", error_description: "The end-user denied the request" })
      ])
      yield* TestClock.adjust("5 seconds")
      const error = failure(yield* Fiber.join(fiber))
      assert.deepStrictEqual(polls, [0, 5])
      assert.strictEqual(error.reason, "Denied")
      assert.include(error.message, "The end-user denied the request")
    })
  )

  it.effect("fails Expired exactly when expires_in runs out", () =>
    Effect.gen(function* () {
      const { fiber, polls } = yield* loginWith([pending], { expires_in: 600 })
      yield* TestClock.adjust(Duration.millis(599_999))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      assert.strictEqual(polls.length, 120)
      yield* TestClock.adjust(Duration.millis(1))
      const error = failure(yield* Fiber.join(fiber))
      assert.strictEqual(error.reason, "Expired")
      assert.strictEqual(error.step, "poll")
    })
  )

  it.effect("fails with the description of an error it does not know", () =>
    Effect.gen(function* () {
      const { fiber } = yield* loginWith([
        pending,
        json(400, { error: "invalid_grant", error_description: "the device code is not known here" })
      ])
      yield* TestClock.adjust("5 seconds")
      const error = failure(yield* Fiber.join(fiber))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.code, "invalid_grant")
      assert.include(error.message, "invalid_grant: the device code is not known here")
    })
  )
})
