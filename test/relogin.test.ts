// A login that replaces a stored sign-in revokes the tokens it replaces, so that no refresh token stays live at the
// issuer with nothing holding it: a re-login, the earlier of two concurrent logins, an API key stored over a sign-in.
// Real HTTP against a LocalIssuer, a file store in a fresh CODEX_HOME.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Option, Redacted } from "effect"
import type { StoredAuth } from "../src/domain/StoredAuth.js"
import * as DeviceCodeAuth from "../src/layers/DeviceCodeAuth.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { login } from "../src/services/login.js"
import { loginWithApiKey } from "../src/services/loginWithApiKey.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { tempDir } from "./support/tmp.js"

/** Each wait of a test is bounded: a login that never ends fails the test instead of hanging it. */
const bound = "20 seconds"

const refreshTokenOf = (record: StoredAuth): string =>
  Option.getOrThrow(Option.flatMap(record.tokens, (tokens) => Option.map(tokens.refreshToken, Redacted.value)))

/** A LocalIssuer and a file store in a fresh CODEX_HOME, with the layer a login against them needs. */
const setup = Effect.gen(function* () {
  const issuer = yield* LocalIssuer.make({ interval: "1 second" })
  const codexHome = yield* tempDir
  const layer = DeviceCodeAuth.layerNode({ codexHome, issuer: issuer.url, store: "file" })
  return { issuer, layer }
})

type Setup = Effect.Effect.Success<typeof setup>

/**
 * `count` logins at once, each with its own services as two programs would have (they share only the auth.json and
 * its locks), each code approved at the issuer as it is issued; their results in the order started.
 */
const logins = ({ issuer, layer }: Setup, count: number) =>
  Effect.gen(function* () {
    const fibers = yield* Effect.forEach(Array.from({ length: count }), () =>
      Effect.fork(login().pipe(Effect.provide(layer)))
    )
    for (let i = 0; i < count; i++) assert.isTrue(yield* issuer.approve(yield* issuer.nextCode))
    return yield* Fiber.joinAll(fibers)
  }).pipe(Effect.timeoutFail({ duration: bound, onTimeout: () => "the logins did not end in time" }))

const storedRefreshToken = ({ layer }: Setup) =>
  Effect.flatMap(CredentialStore, (store) => store.load).pipe(
    Effect.map((stored) => refreshTokenOf(Option.getOrThrow(stored))),
    Effect.provide(layer)
  )

describe("a login over a stored sign-in revokes what it replaces (real HTTP)", () => {
  it.scopedLive("a re-login revokes the replaced refresh token; the new one stays live", () =>
    Effect.gen(function* () {
      const context = yield* setup
      const [first] = yield* logins(context, 1)
      const [second] = yield* logins(context, 1)
      const replaced = refreshTokenOf(first!.record)
      const kept = refreshTokenOf(second!.record)
      assert.notStrictEqual(replaced, kept)
      assert.strictEqual(yield* storedRefreshToken(context), kept)
      assert.deepStrictEqual(yield* context.issuer.refreshTokenState(replaced), Option.some("revoked"))
      assert.deepStrictEqual(yield* context.issuer.refreshTokenState(kept), Option.some("active"))
      assert.strictEqual((yield* context.issuer.stats).revoke, 1)
    })
  )

  it.scopedLive("two concurrent logins: both are saved in turn, and the first saved is revoked by the second", () =>
    Effect.gen(function* () {
      const context = yield* setup
      const results = yield* logins(context, 2)
      const issued = results.map((result) => refreshTokenOf(result.record))
      const stored = yield* storedRefreshToken(context)
      assert.include(issued, stored)
      const orphan = issued.find((token) => token !== stored)!
      assert.deepStrictEqual(yield* context.issuer.refreshTokenState(orphan), Option.some("revoked"))
      assert.deepStrictEqual(yield* context.issuer.refreshTokenState(stored), Option.some("active"))
      assert.strictEqual((yield* context.issuer.stats).revoke, 1)
    })
  )

  it.scopedLive("an API key stored over a ChatGPT sign-in revokes the sign-in's refresh token", () =>
    Effect.gen(function* () {
      const context = yield* setup
      const [signIn] = yield* logins(context, 1)
      const saved = yield* loginWithApiKey({ key: Effect.succeed("sk-proj-relogin-test-12345") }).pipe(
        Effect.provide(context.layer)
      )
      assert.strictEqual(saved.record.authMode.pipe(Option.getOrNull), "apikey")
      const replaced = refreshTokenOf(signIn!.record)
      assert.deepStrictEqual(yield* context.issuer.refreshTokenState(replaced), Option.some("revoked"))
      assert.strictEqual((yield* context.issuer.stats).revoke, 1)
    })
  )
})
