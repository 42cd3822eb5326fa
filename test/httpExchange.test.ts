import { Headers, HttpClient, HttpClientRequest, HttpClientResponse } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Option, Redacted } from "effect"
import { errorCode, errorDetail, redactSecrets, revokeUrlFromRefreshUrl } from "../src/domain/CodexWire.js"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { MAX_JSON_DEPTH, nestedDeeperThan, parseJson } from "../src/domain/Json.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type Answer, makeExchange, maxResponseBytes, userAgent } from "../src/layers/httpExchange.js"
import { VERSION } from "../src/version.js"
import { gzipSync } from "node:zlib"
import { fakeClient, json, type Recorded, type Reply } from "./support/fakeHttp.js"

const ISSUER = "https://issuer.test"

const failure = <A>(exit: Exit.Exit<A, DeviceAuthError>): DeviceAuthError => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a DeviceAuthError failure, got ${String(exit)}`)
}

/**
 * A client whose every answer is a body of `total` bytes streamed in 64 KiB chunks as they are pulled, counting what
 * was pulled and whether the reader cancelled: a huge body is never made whole.
 */
const streamingClient = (status: number, total: number) => {
  const seen = { pulled: 0, cancelled: false }
  const client = HttpClient.make((request) =>
    Effect.sync(() => {
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (seen.pulled >= total) return controller.close()
          const chunk = new Uint8Array(Math.min(64 * 1024, total - seen.pulled)).fill(0x20)
          seen.pulled += chunk.length
          controller.enqueue(chunk)
        },
        cancel() {
          seen.cancelled = true
        }
      })
      return HttpClientResponse.fromWeb(request, new Response(body, { status }))
    })
  )
  return { client, seen }
}

const exchangeOver = (client: HttpClient.HttpClient) =>
  makeExchange({ client, issuer: ISSUER, requestTimeout: Duration.seconds(30) })

const sendTo = (client: HttpClient.HttpClient) =>
  exchangeOver(client).send("usercode", HttpClientRequest.post(`${ISSUER}/x`))

/** Codex's login flow and issuer client over one fake HttpClient answering with `reply`. */
const codexWith = (reply: (request: Recorded) => Reply) =>
  Effect.gen(function* () {
    const flow = yield* CodexIssuer.makeLoginFlow({ issuer: ISSUER }).pipe(Effect.provideService(Pkce.Pkce, Pkce.make))
    const client = yield* CodexIssuer.makeClient({ issuer: ISSUER })
    return { flow, client }
  }).pipe(Effect.provideService(HttpClient.HttpClient, fakeClient(reply).client))

const deep = (depth: number) => `${'{"error":'.repeat(depth)}"x"${"}".repeat(depth)}`

describe("httpExchange: response size cap", () => {
  it.effect("a 100 MiB streamed body fails Malformed after about 1 MiB is read, and the stream is cancelled", () =>
    Effect.gen(function* () {
      const { client, seen } = streamingClient(200, 100 * 1024 * 1024)
      const error = failure(yield* Effect.exit(sendTo(client)))
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "usercode")
      assert.include(error.message, "the answer is larger than 1 MiB")
      assert.isAtMost(seen.pulled, maxResponseBytes + 4 * 64 * 1024)
      assert.isTrue(seen.cancelled)
    })
  )

  it.effect("an error answer is capped too, and a body of exactly 1 MiB is read", () =>
    Effect.gen(function* () {
      const huge = streamingClient(500, 10 * 1024 * 1024)
      assert.strictEqual(failure(yield* Effect.exit(sendTo(huge.client))).reason, "Malformed")
      const full = streamingClient(200, maxResponseBytes)
      const answer = yield* sendTo(full.client)
      assert.strictEqual(answer.text.length, maxResponseBytes)
      assert.strictEqual(maxResponseBytes, 1024 * 1024)
    })
  )

  it.effect("a huge refresh answer is refused through the issuer", () =>
    Effect.gen(function* () {
      const { client } = streamingClient(200, 5 * 1024 * 1024)
      const issuer = yield* CodexIssuer.makeClient({ issuer: ISSUER }).pipe(
        Effect.provideService(HttpClient.HttpClient, client)
      )
      const error = failure(yield* Effect.exit(issuer.refresh(Redacted.make("rt_1"))))
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "refresh")
    })
  )

  it.scopedLive("over real HTTP, a 4 MiB answer fails Malformed and the next request is served", () =>
    Effect.gen(function* () {
      const local = yield* LocalIssuer.make()
      yield* local.setKnobs({
        faults: [{ path: "/api/accounts/deviceauth/usercode", status: 200, body: `"${"x".repeat(4 * 1024 * 1024)}"` }]
      })
      const issuer = yield* CodexIssuer.makeLoginFlow({ issuer: local.url }).pipe(
        Effect.provideService(Pkce.Pkce, Pkce.make)
      )
      const error = failure(yield* Effect.exit(issuer.start))
      assert.strictEqual(error.reason, "Malformed")
      assert.include(error.message, "larger than 1 MiB")
      const code = yield* issuer.start
      assert.isNotEmpty(code.userCode)
    }).pipe(Effect.provide(NodeHttpClient.layer))
  )

  it.effect("an answer without a body reads as empty", () =>
    Effect.gen(function* () {
      const client = HttpClient.make((request) =>
        Effect.succeed(HttpClientResponse.fromWeb(request, new Response(null, { status: 204 })))
      )
      const answer = yield* sendTo(client)
      assert.strictEqual(answer.status, 204)
      assert.strictEqual(answer.text, "")
    })
  )
})

describe("httpExchange: nesting depth", () => {
  it("scans brackets outside strings, escapes included", () => {
    assert.isFalse(nestedDeeperThan(deep(MAX_JSON_DEPTH)))
    assert.isTrue(nestedDeeperThan(deep(MAX_JSON_DEPTH + 1)))
    assert.isFalse(nestedDeeperThan(JSON.stringify({ s: "[".repeat(500), t: '\\"{{{{' })))
    assert.isTrue(nestedDeeperThan(`["\\\\", ${"[".repeat(70)}`))
    assert.isTrue(Option.isSome(parseJson(deep(MAX_JSON_DEPTH))))
    assert.isTrue(Option.isNone(parseJson("[".repeat(3000) + "]".repeat(3000))))
  })

  it("reads no code and no detail from a body nested 3000 deep, without throwing", () => {
    const body = deep(3000)
    assert.isUndefined(errorCode(Option.getOrUndefined(parseJson(body))))
    assert.strictEqual(errorDetail(body), "")
  })

  it.effect("a 3000-deep answer is a typed Malformed, at 200 and at 500, never a defect", () =>
    Effect.gen(function* () {
      for (const [status, body] of [
        [200, "[".repeat(3000) + "]".repeat(3000)],
        [500, deep(3000)],
        [403, deep(3000)]
      ] as const) {
        const { flow } = yield* codexWith(() => ({ status, body, headers: { "content-type": "application/json" } }))
        const exit = yield* Effect.exit(flow.start)
        const error = failure(exit)
        assert.strictEqual(error.reason, "Malformed", `status ${status}`)
        assert.include(error.message, "the answer is nested too deeply")
      }
    })
  )
})

describe("httpExchange: error details never echo secrets", () => {
  const jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEyMyJ9.c2lnbmF0dXJlLWJ5dGVz"
  const refresh = "rt_Zk9vQ2xMa1pQdz09"
  const key = "sk-proj-AbCdEf0123456789"
  const opaque = "Q2hhdEdQVC1vcGFxdWUtdG9rZW4tdmFsdWUtMDEyMzQ1Njc4OQ"

  it.effect("a 500 whose JSON body holds tokens shows only its error code", () =>
    Effect.gen(function* () {
      const { client } = yield* codexWith(() =>
        json(500, { access_token: jwt, refresh_token: refresh, id_token: jwt, error: "server_error" })
      )
      const error = failure(yield* Effect.exit(client.refresh(Redacted.make(refresh))))
      assert.strictEqual(error.reason, "Rejected")
      assert.strictEqual(error.message, `token refresh failed: ${ISSUER} returned status 500: server_error`)
      for (const secret of [jwt, refresh, "eyJ", "rt_"]) assert.notInclude(error.message, secret)
    })
  )

  it.effect("a JSON body without an error field shows nothing of itself", () =>
    Effect.gen(function* () {
      const { flow } = yield* codexWith(() => json(500, { access_token: jwt, refresh_token: refresh }))
      const error = failure(yield* Effect.exit(flow.start))
      assert.strictEqual(error.message, `device code request failed: ${ISSUER} returned status 500`)
      const broken = yield* codexWith(() => ({ status: 500, body: `{"access_token": "${opaque}", "note": "cut` }))
      const brokenError = failure(yield* Effect.exit(broken.flow.start))
      assert.strictEqual(brokenError.message, `device code request failed: ${ISSUER} returned status 500`)
    })
  )

  it.effect("tokens inside the error fields are replaced by …", () =>
    Effect.gen(function* () {
      const { flow } = yield* codexWith(() =>
        json(400, {
          error: "invalid_request",
          error_description: `token ${jwt} with ${refresh}, key ${key} and ${opaque} are refused`
        })
      )
      const error = failure(yield* Effect.exit(flow.start))
      assert.include(error.message, "token … with …, key … and … are refused")
      for (const secret of [jwt, refresh, key, opaque]) assert.notInclude(error.message, secret)
    })
  )

  it.effect("a non-JSON body gives at most 100 characters, without control characters or secrets", () =>
    Effect.gen(function* () {
      const body = `Internal\u001b[2J error\r\n\u0007at ${key}\u202e ${"x".repeat(500)}`
      const { flow } = yield* codexWith(() => ({ status: 500, body }))
      const error = failure(yield* Effect.exit(flow.start))
      const detail = error.detail ?? ""
      assert.isTrue(detail.startsWith("Internal[2J error at … xxx"), detail)
      assert.isAtMost(Array.from(detail).length, 101)
      assert.notMatch(error.message, /[\u0000-\u001f\u007f\u202e]/)
      assert.notInclude(error.message, key)
    })
  )

  it("keeps error codes that read as words, and redacts only what looks like a secret", () => {
    assert.strictEqual(redactSecrets("deviceauth_authorization_pending"), "deviceauth_authorization_pending")
    assert.strictEqual(
      redactSecrets("REFRESH_TOKEN_INVALIDATED_BY_THE_SERVER"),
      "REFRESH_TOKEN_INVALIDATED_BY_THE_SERVER"
    )
    assert.strictEqual(redactSecrets("a5f3c9e1b2d4a6f8c0e2b4d6f8a0c2e4"), "…")
    assert.strictEqual(redactSecrets("task-runner desk-top start_time"), "task-runner desk-top start_time")
    assert.strictEqual(errorCode({ error: { code: "refresh_token_reused" } }), "refresh_token_reused")
    assert.strictEqual(errorCode({ error: `${jwt}` }), "…")
    assert.strictEqual(
      errorDetail(JSON.stringify({ error: { message: "Your refresh token has already been used" } })),
      "Your refresh token has already been used"
    )
  })
})

describe("httpExchange: rate limits and headers", () => {
  const answer = (status: number): Answer => ({
    status,
    headers: Headers.fromInput({ "retry-after": "7" }),
    text: JSON.stringify({ error: "rate_limit_exceeded" })
  })

  it.effect("a 429 reads as rate limited, stays Unavailable and keeps its Retry-After", () =>
    Effect.gen(function* () {
      const exchange = exchangeOver(fakeClient(() => json(200, {})).client)
      const limited = failure(yield* Effect.exit(exchange.classify("poll", answer(429))))
      assert.strictEqual(limited.reason, "Unavailable")
      assert.strictEqual(limited.status, 429)
      assert.strictEqual(
        limited.message,
        `device code poll was rate limited by ${ISSUER} (status 429: rate_limit_exceeded)`
      )
      assert.isTrue(limited.retryAfter !== undefined && Duration.equals(limited.retryAfter, Duration.seconds(7)))
      const busy = failure(yield* Effect.exit(exchange.classify("poll", answer(503))))
      assert.include(busy.message, `device code poll could not reach ${ISSUER}`)
    })
  )

  it.effect("every request carries the dialect's headers and no others of ours", () =>
    Effect.gen(function* () {
      assert.strictEqual(
        userAgent,
        `devicecode/${VERSION} (${process.platform}; ${process.arch}) node/${process.versions.node}`
      )
      const fake = fakeClient(() => json(200, {}))
      const exchange = makeExchange({
        client: fake.client,
        issuer: ISSUER,
        requestTimeout: Duration.seconds(30),
        headers: { originator: "test" }
      })
      yield* exchange.send("discovery", HttpClientRequest.get(`${ISSUER}/a`))
      yield* exchange.send("refresh", HttpClientRequest.post(`${ISSUER}/b`).pipe(HttpClientRequest.bodyUnsafeJson({})))
      for (const request of fake.requests) {
        assert.isUndefined(request.headers["user-agent"])
        assert.strictEqual(request.headers["originator"], "test")
      }
    })
  )
})

/** A client whose every answer is `body` with the given status and headers, as bytes. */
const bytesClient = (body: Uint8Array, headers: Record<string, string>) =>
  HttpClient.make((request) =>
    Effect.sync(() => HttpClientResponse.fromWeb(request, new Response(body, { status: 200, headers })))
  )

describe("httpExchange: content encodings", () => {
  const text = JSON.stringify({ access_token: "at", padding: "x".repeat(1000) })

  it.effect(
    "decodes a gzip answer (and x-gzip, in any case); identity, none and an empty body are read as they are",
    () =>
      Effect.gen(function* () {
        for (const encoding of ["gzip", "x-gzip", "GZIP"]) {
          const answer = yield* sendTo(bytesClient(gzipSync(text), { "content-encoding": encoding }))
          assert.strictEqual(answer.text, text, encoding)
        }
        for (const headers of [{ "content-encoding": "identity" }, {}]) {
          const answer = yield* sendTo(bytesClient(new TextEncoder().encode(text), headers))
          assert.strictEqual(answer.text, text)
        }
        const empty = yield* sendTo(bytesClient(new Uint8Array(), { "content-encoding": "gzip" }))
        assert.strictEqual(empty.text, "")
      })
  )

  it.effect("a gzip answer that inflates past 1 MiB, or is corrupt, or another encoding, fails Malformed", () =>
    Effect.gen(function* () {
      // a 20 MiB answer of zeros compresses to about 20 KiB: the cap applies to what it inflates to
      const bomb = gzipSync(new Uint8Array(20 * 1024 * 1024))
      assert.isBelow(bomb.length, maxResponseBytes)
      const large = failure(yield* Effect.exit(sendTo(bytesClient(bomb, { "content-encoding": "gzip" }))))
      assert.strictEqual(large.reason, "Malformed")
      assert.include(large.message, "larger than 1 MiB")
      const corrupt = failure(
        yield* Effect.exit(sendTo(bytesClient(new TextEncoder().encode(text), { "content-encoding": "gzip" })))
      )
      assert.strictEqual(corrupt.reason, "Malformed")
      assert.include(corrupt.message, "gzip encoding is corrupt")
      const zstd = failure(
        yield* Effect.exit(sendTo(bytesClient(new TextEncoder().encode(text), { "content-encoding": "zstd" })))
      )
      assert.strictEqual(zstd.reason, "Malformed")
      assert.include(zstd.message, "content encoding devicecode does not decode (zstd)")
    })
  )
})

describe("CodexWire.revokeUrlFromRefreshUrl", () => {
  it("keeps the origin, sets the path to /oauth/revoke and drops the query, as codex does", () => {
    assert.deepStrictEqual(
      revokeUrlFromRefreshUrl("http://127.0.0.1:1234/oauth/token?unified=true"),
      Option.some("http://127.0.0.1:1234/oauth/revoke")
    )
    assert.deepStrictEqual(
      revokeUrlFromRefreshUrl("https://gw.example.com/auth/v2/token"),
      Option.some("https://gw.example.com/oauth/revoke")
    )
    assert.isTrue(Option.isNone(revokeUrlFromRefreshUrl("/relative/token")))
    assert.isTrue(Option.isNone(revokeUrlFromRefreshUrl("not a url")))
  })
})
