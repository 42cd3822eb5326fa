import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted, Ref, TestClock } from "effect"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { TokenSet } from "../src/domain/TokenSet.js"
import type { TokenTypeHint } from "../src/services/IssuerClient.js"
import { RevokeTimeoutError } from "../src/domain/Errors.js"
import { revokeTokens, type TokenRevoker } from "../src/services/revokeTokens.js"

/** A client that logs each revocation and answers with `answer`. */
const client = (answer: Effect.Effect<void, DeviceAuthError> = Effect.void) =>
  Effect.map(Ref.make<ReadonlyArray<readonly [string, TokenTypeHint | undefined]>>([]), (sent) => ({
    sent: Ref.get(sent),
    revoker: {
      revoke: (token, hint) =>
        Effect.zipRight(
          Ref.update(sent, (all) => [...all, [Redacted.value(token), hint] as const]),
          answer
        )
    } satisfies TokenRevoker
  }))

/** Tokens as an issuer hands them out (what a login that could not store them revokes). */
const issued = (accessToken: string, refreshToken?: string) =>
  new TokenSet({
    accessToken: Redacted.make(accessToken),
    idToken: Option.none(),
    refreshToken: Option.map(Option.fromNullable(refreshToken), Redacted.make),
    expiresIn: Option.none()
  })

describe("revokeTokens", () => {
  it.effect("the refresh token when there is one, else the access token hinted as one", () =>
    Effect.gen(function* () {
      const withRefresh = yield* client()
      assert.isTrue(yield* revokeTokens(withRefresh.revoker, issued("at", "rt")))
      assert.deepStrictEqual(yield* withRefresh.sent, [["rt", "refresh_token"]])
      const accessOnly = yield* client()
      assert.isTrue(yield* revokeTokens(accessOnly.revoker, issued("at")))
      assert.deepStrictEqual(yield* accessOnly.sent, [["at", "access_token"]])
    })
  )

  it.effect("an empty token is none: nothing is sent, and nothing was revoked", () =>
    Effect.gen(function* () {
      const empty = yield* client()
      assert.isFalse(yield* revokeTokens(empty.revoker, issued("", "")))
      assert.deepStrictEqual(yield* empty.sent, [])
      const emptyRefresh = yield* client()
      assert.isTrue(yield* revokeTokens(emptyRefresh.revoker, issued("at", "")))
      assert.deepStrictEqual(yield* emptyRefresh.sent, [["at", "access_token"]])
    })
  )

  it.effect("the issuer's refusal is the error", () =>
    Effect.gen(function* () {
      const refusal = new DeviceAuthError({ reason: "Rejected", issuer: "https://i.test", step: "revoke", status: 400 })
      const refusing = yield* client(Effect.fail(refusal))
      const error = yield* Effect.flip(revokeTokens(refusing.revoker, issued("at", "rt")))
      assert.strictEqual(error._tag, "DeviceAuthError")
      assert.strictEqual(error.message, refusal.message)
    })
  )

  it.effect("bounded by revokeBound: still waiting at 9.999 s, given up at 10 s with a typed error", () =>
    Effect.gen(function* () {
      const silent = yield* client(Effect.never)
      const fiber = yield* Effect.fork(Effect.flip(revokeTokens(silent.revoker, issued("at", "rt"))))
      yield* TestClock.adjust("9999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber)
      assert.instanceOf(error, RevokeTimeoutError)
      assert.strictEqual(error.message, "no answer within 10 s")
    })
  )
})
