import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Fiber, Layer, Option, Random, TestClock } from "effect"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { login } from "../src/services/login.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import { chatgptClaims, unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import * as TestPkce from "../src/testing/TestPkce.js"
import { fakeClient, json, type Reply } from "./support/fakeHttp.js"

const issuer = "https://issuer.test"

const tokens = json(200, {
  id_token: unsignedJwt(chatgptClaims()),
  access_token: unsignedJwt({ exp: 4_102_444_800 }),
  refresh_token: "rt_opaque"
})

const approved = json(200, { authorization_code: "ac", code_challenge: s256Challenge("cv"), code_verifier: "cv" })

const issued: Reply = json(200, { device_auth_id: "deviceauth_1", user_code: "ABCD-EFGHJ", interval: "5" })

/** A login through the real CodexIssuer over a fake HttpClient that answers each poll from `polls`, in order. */
const loginAgainst = (usercode: Reply | ReadonlyArray<Reply>, polls: ReadonlyArray<Reply>, exchange = [tokens]) =>
  Effect.gen(function* () {
    const pollTimes: Array<number> = []
    const usercodes = Array.isArray(usercode) ? [...usercode] : [usercode as Reply]
    const exchanges = [...exchange]
    const answer = (replies: Array<Reply>, last: Reply) =>
      replies.length > 1 ? replies.shift()! : (replies[0] ?? last)
    let next = 0
    const fake = fakeClient((request) => {
      if (request.url.endsWith("/usercode")) return answer(usercodes, issued)
      if (request.url.endsWith("/deviceauth/token")) return polls[next++] ?? json(403, { error: "pending" })
      return answer(exchanges, tokens)
    })
    const client = HttpClient.transform(fake.client, (response, request) =>
      request.url.endsWith("/deviceauth/token")
        ? Effect.zipRight(
            Effect.map(Clock.currentTimeMillis, (t) => void pollTimes.push(t)),
            response
          )
        : response
    )
    const store = yield* MemoryStore.make()
    const http = Layer.succeed(HttpClient.HttpClient, client)
    const layer = Layer.mergeAll(
      CodexIssuer.layer({ issuer }).pipe(Layer.provide(Layer.merge(http, TestPkce.layer))),
      IssuerResolver.layer.pipe(Layer.provide(http)),
      Layer.succeed(CredentialStore, store),
      WorkspacePolicy.layer(Option.none())
    )
    const fiber = yield* Effect.fork(Effect.provide(login(), layer).pipe(Effect.withRandom(Random.fixed([0.5]))))
    yield* Effect.yieldNow()
    return { fiber, pollTimes, store, requests: fake.requests }
  })

describe("login through CodexIssuer on TestClock", () => {
  it.effect("503 and 429 with Retry-After are retried inside the deadline", () =>
    Effect.gen(function* () {
      const { fiber, pollTimes, store } = yield* loginAgainst(issued, [
        json(503, { error: "unavailable" }),
        json(429, { error: "rate_limited" }, { "retry-after": "7" }),
        json(403, { error: { code: "deviceauth_authorization_pending" } }),
        approved
      ])
      yield* TestClock.adjust("60 seconds")
      const result = yield* Fiber.join(fiber)
      // 503 → back off one interval (5 s); 429 → Retry-After 7 s; pending → 5 s.
      assert.deepStrictEqual(pollTimes, [0, 5_000, 12_000, 17_000])
      assert.strictEqual(Option.getOrNull(result.claims.email), "dev@example.com")
      assert.isTrue(Option.isSome(yield* store.load))
    })
  )

  it.effect("a first poll answered 429 with Retry-After: 3600 is retried at 60 s, and the login completes", () =>
    Effect.gen(function* () {
      const { fiber, pollTimes, store } = yield* loginAgainst(issued, [
        json(429, { error: "rate_limited" }, { "retry-after": "3600" }),
        json(403, { error: { code: "deviceauth_authorization_pending" } }),
        approved
      ])
      yield* TestClock.adjust("59 seconds")
      assert.deepStrictEqual(pollTimes, [0], "Retry-After is capped at 60 s, not obeyed for an hour")
      yield* TestClock.adjust("6 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(pollTimes, [0, 60_000, 65_000])
      assert.isTrue(Option.isSome(yield* store.load))
    })
  )

  it.effect("an issuer whose code_verifier does not hash to its code_challenge: no request to /oauth/token", () =>
    Effect.gen(function* () {
      const { fiber, requests, store } = yield* loginAgainst(issued, [
        json(200, { authorization_code: "ac", code_challenge: s256Challenge("another"), code_verifier: "cv" })
      ])
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.message, "the issuer's PKCE values do not match")
      assert.isFalse(requests.some((request) => request.url.endsWith("/oauth/token")))
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("a 500 with a body fails with the body's message and writes nothing", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* loginAgainst(issued, [
        json(403, { error: "pending" }),
        json(500, { error: { message: "upstream exploded" } })
      ])
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.message, "upstream exploded")
      assert.include(error.message, "500")
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("usercode 404 says device code login is not enabled, naming the issuer", () =>
    Effect.gen(function* () {
      const { fiber } = yield* loginAgainst(json(404, { error: "not_found" }), [])
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.message, "device code login is not enabled")
      assert.include(error.message, issuer)
    })
  )

  it.effect("the user-code request honours Retry-After and the exchange retries a 503", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* loginAgainst(
        [json(503, {}, { "retry-after": "10" }), issued],
        [approved],
        [json(503, {}), tokens]
      )
      yield* TestClock.adjust("9 seconds")
      assert.isNull(fiber.unsafePoll(), "still waiting out Retry-After")
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(fiber)
      assert.isTrue(Option.isSome(yield* store.load))
    })
  )

  it.effect("interval as a number and missing interval both poll every 5 s", () =>
    Effect.gen(function* () {
      for (const interval of [5, undefined]) {
        const { fiber, pollTimes } = yield* loginAgainst(
          json(200, { device_auth_id: "deviceauth_1", usercode: "ABCD-EFGHJ", interval }),
          [json(403, {}), approved]
        )
        yield* TestClock.adjust("5 seconds")
        yield* Fiber.join(fiber)
        const start = pollTimes[0]!
        assert.deepStrictEqual(
          pollTimes.map((t) => t - start),
          [0, 5_000]
        )
      }
    })
  )
})
