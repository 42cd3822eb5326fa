import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Option, Ref, TestClock } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { SignInOrigin, StoredAuth } from "../src/domain/StoredAuth.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { logout, LogoutEvent } from "../src/services/logout.js"
import { RevokeTimeoutError } from "../src/domain/Errors.js"
import { apiKeySignIn, chatgptSignIn, fakeIssuers, Platform } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

const refused = new DeviceAuthError({
  reason: "Unavailable",
  issuer: "https://issuer.test",
  step: "revoke",
  status: 503
})

/** Runs a logout of `stored` in memory against issuers answering `answer`; returns what it did and saw. */
const logoutOf = (stored: Option.Option<StoredAuth>, answer?: Effect.Effect<void, DeviceAuthError>) =>
  Effect.gen(function* () {
    const store = yield* MemoryStore.make(stored)
    const issuers = yield* fakeIssuers(answer)
    const events = yield* Ref.make<ReadonlyArray<LogoutEvent>>([])
    const result = yield* logout({ onEvent: (event) => Ref.update(events, (all) => [...all, event]) }).pipe(
      Effect.provide(Layer.merge(Layer.succeed(CredentialStore, store), issuers.layer))
    )
    return { result, store, issuers, events: yield* Ref.get(events) }
  })

describe("logout", () => {
  it.effect("revokes the refresh token at the sign-in's issuer, then removes the sign-in", () =>
    Effect.gen(function* () {
      const origin = new SignInOrigin({
        dialect: "codex",
        issuer: "https://other.test",
        clientId: "c",
        scope: Option.none()
      })
      const { events, issuers, result, store } = yield* logoutOf(Option.some(chatgptSignIn({ origin })))
      assert.deepStrictEqual(result, {
        removed: true,
        revoked: true,
        keptAside: Option.none(),
        revokeError: Option.none()
      })
      assert.deepStrictEqual(yield* issuers.revocations, [
        { token: "rt_stored", hint: "refresh_token", origin: Option.some(origin) }
      ])
      assert.deepStrictEqual(events, [])
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("without a refresh token, revokes the access token hinted as one (as codex does)", () =>
    Effect.gen(function* () {
      const { issuers, result } = yield* logoutOf(
        Option.some(chatgptSignIn({ refreshToken: null, accessToken: "at_only" }))
      )
      assert.isTrue(result.revoked)
      assert.deepStrictEqual(
        (yield* issuers.revocations).map(({ hint, token }) => [token, hint]),
        [["at_only", "access_token"]]
      )
    })
  )

  it.effect("an API key is removed without asking any issuer", () =>
    Effect.gen(function* () {
      const { issuers, result, store } = yield* logoutOf(Option.some(apiKeySignIn()))
      assert.deepStrictEqual([result.removed, result.revoked], [true, false])
      assert.strictEqual(yield* issuers.resolved, 0)
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect(
    "nobody signed in: nothing removed, nothing revoked; a record holding no sign-in is cleared all the same",
    () =>
      Effect.gen(function* () {
        const none = yield* logoutOf(Option.none())
        assert.deepStrictEqual([none.result.removed, none.result.revoked], [false, false])
        const empty = new StoredAuth({
          authMode: Option.none(),
          apiKey: Option.none(),
          tokens: Option.none(),
          lastRefresh: Option.none(),
          origin: Option.none(),
          extra: []
        })
        const nothing = yield* logoutOf(Option.some(empty))
        assert.deepStrictEqual([nothing.result.removed, nothing.result.revoked], [false, false])
        assert.strictEqual(yield* nothing.issuers.resolved, 0)
        assert.isTrue(Option.isNone(yield* nothing.store.load))
      })
  )

  it.effect("a refused revocation is told as it happens, and the sign-in is removed anyway", () =>
    Effect.gen(function* () {
      const { events, result, store } = yield* logoutOf(Option.some(chatgptSignIn()), Effect.fail(refused))
      assert.deepStrictEqual([result.removed, result.revoked, result.keptAside], [true, false, Option.none()])
      // the issuer's own error, as it came
      const error = Option.getOrThrow(result.revokeError)
      assert.strictEqual(error.message, refused.message)
      assert.deepStrictEqual(
        events.map((event) => [event._tag, event.error.message]),
        [["RevokeFailed", refused.message]]
      )
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("an issuer that does not answer is given up on at 10 s exactly (TestClock), with codex's words", () =>
    Effect.gen(function* () {
      const fiber = yield* Effect.fork(logoutOf(Option.some(chatgptSignIn()), Effect.never))
      yield* TestClock.adjust("9999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting at 9.999 s")
      yield* TestClock.adjust("1 millis")
      const { events, result, store } = yield* Fiber.join(fiber)
      assert.deepStrictEqual([result.removed, result.revoked], [true, false])
      const error = Option.getOrThrow(result.revokeError)
      assert.instanceOf(error, RevokeTimeoutError)
      assert.strictEqual(error.message, "no answer within 10 s")
      assert.deepStrictEqual(
        events.map((event) => event._tag),
        ["RevokeFailed"]
      )
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.scoped("an unreadable auth.json is set aside, never deleted, and said so; nothing is revoked", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      writeFileSync(authPath, "{ not json", { mode: 0o600 })
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const issuers = yield* fakeIssuers()
      const events = yield* Ref.make<ReadonlyArray<LogoutEvent>>([])
      const result = yield* logout({ onEvent: (event) => Ref.update(events, (all) => [...all, event]) }).pipe(
        Effect.provide(Layer.merge(Layer.succeed(CredentialStore, store), issuers.layer))
      )
      const keptAs = Option.getOrThrow(result.keptAside)
      assert.deepStrictEqual([result.removed, result.revoked], [true, false])
      assert.strictEqual(readFileSync(keptAs, "utf8"), "{ not json")
      assert.isFalse(existsSync(authPath))
      assert.strictEqual(yield* issuers.resolved, 0)
      const [event, ...more] = yield* Ref.get(events)
      assert.deepStrictEqual(more, [])
      assert.strictEqual(event?._tag, "StoreSetAside")
      if (event?._tag === "StoreSetAside") {
        assert.strictEqual(event.error.reason, "Corrupt")
        assert.deepStrictEqual([event.keptAs, event.revoked], [Option.some(keptAs), false])
      }
    })
  )

  it.scoped("on a FileStore: a stored sign-in is revoked and auth.json removed", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      yield* store.save(chatgptSignIn())
      const issuers = yield* fakeIssuers()
      const exit = yield* Effect.exit(
        logout().pipe(Effect.provide(Layer.merge(Layer.succeed(CredentialStore, store), issuers.layer)))
      )
      assert.deepStrictEqual(
        Exit.map(exit, ({ removed, revoked }) => [removed, revoked]),
        Exit.succeed([true, true])
      )
      assert.isFalse(existsSync(authPath))
      assert.strictEqual((yield* issuers.revocations).length, 1)
    })
  )
})
