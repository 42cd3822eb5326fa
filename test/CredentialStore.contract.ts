import { assert, describe, it } from "@effect/vitest"
import { DateTime, Deferred, Effect, Fiber, Layer, Option, Redacted, Ref, type Scope, TestClock } from "effect"
import { StoreError } from "../src/domain/Errors.js"
import { apiKeyAuth, StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import { Keyring } from "../src/layers/Keyring.js"
import type { CredentialStore } from "../src/services/CredentialStore.js"

/** A ChatGPT sign-in with an extra top-level `counter` field. */
export const chatgptAuth = (accessToken: string, counter = 0): StoredAuth =>
  new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(Redacted.make("id-token")),
        accessToken: Redacted.make(accessToken),
        refreshToken: Option.some(Redacted.make("refresh-token")),
        accountId: Option.some("acct-1"),
        loginOwnerId: Option.none(),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.none(),
    origin: Option.none(),
    extra: [["counter", counter]]
  })

/** `auth` with `last_refresh` set to the ISO instant `at`. */
export const refreshedAt = (auth: StoredAuth, at: string): StoredAuth =>
  new StoredAuth({ ...auth, lastRefresh: Option.some(DateTime.unsafeMake(at)) })

const accessToken = (auth: Option.Option<StoredAuth>): string | undefined =>
  Option.getOrUndefined(
    Option.map(
      Option.flatMap(auth, (a) => a.tokens),
      (t) => Redacted.value(t.accessToken)
    )
  )

const counter = (auth: Option.Option<StoredAuth>): number => {
  const found = Option.getOrUndefined(auth)?.extra.find(([key]) => key === "counter")
  return typeof found?.[1] === "number" ? found[1] : 0
}

/**
 * An in-memory Keyring that fails on save after a refresh: `set` works `sets` times, then fails as a keyring does
 * that will not take a write (reads still work), until `state.healed`; `remove` fails too while `state.removeFails`.
 * Its entries are there to look at.
 */
export const keyringFailingOnSave = (sets: number, options: { readonly removeFails?: boolean } = {}) => {
  const entries = new Map<string, string>()
  const state = { setsLeft: sets, healed: false, removeFails: options.removeFails ?? false }
  const key = (service: string, account: string) => `${service}\u0000${account}`
  const refused = (service: string, account: string) =>
    new StoreError({
      reason: "Keyring",
      path: `keyring entry "${service}" / "${account}"`,
      detail: "Platform secure storage failure: the write was refused"
    })
  const writable = () => state.healed || state.setsLeft > 0
  const layer = Layer.succeed(Keyring, {
    get: (service, account) => Effect.sync(() => Option.fromNullable(entries.get(key(service, account)))),
    set: (service, account, secret) =>
      Effect.suspend(() => {
        if (!writable()) return Effect.fail(refused(service, account))
        state.setsLeft--
        entries.set(key(service, account), secret)
        return Effect.void
      }),
    remove: (service, account) =>
      Effect.suspend(() =>
        state.removeFails && !state.healed
          ? Effect.fail(refused(service, account))
          : Effect.sync(() => entries.delete(key(service, account)))
      )
  })
  return { layer, entries, key, state }
}

/** The behaviour every `CredentialStore` must have; `makeStore` builds a fresh, empty store in the test's scope. */
export const credentialStoreContract = <E>(
  name: string,
  makeStore: Effect.Effect<CredentialStore["Type"], E, Scope.Scope>
): void => {
  describe(`${name} (CredentialStore contract)`, () => {
    it.scoped("starts empty", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        assert.isTrue(Option.isNone(yield* store.load))
        assert.isString(store.location)
      })
    )

    it.scoped("save then load round-trips the record", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        const auth = chatgptAuth("access-1", 7)
        yield* store.save(auth)
        const loaded = yield* store.load
        assert.strictEqual(accessToken(loaded), "access-1")
        assert.strictEqual(counter(loaded), 7)
        const keyAuth = apiKeyAuth(Redacted.make("sk-test"))
        yield* store.save(keyAuth)
        const key = Option.flatMap(yield* store.load, (a) => a.apiKey)
        assert.strictEqual(Option.getOrUndefined(Option.map(key, Redacted.value)), "sk-test")
      })
    )

    it.scoped("save replaces the previous record", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        yield* store.save(chatgptAuth("access-1"))
        yield* store.save(chatgptAuth("access-2"))
        assert.strictEqual(accessToken(yield* store.load), "access-2")
      })
    )

    it.scoped("save replaces a record refreshed later, and one with a last_refresh by one without", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        yield* store.save(refreshedAt(chatgptAuth("access-new"), "2026-04-25T12:00:00Z"))
        yield* store.save(refreshedAt(chatgptAuth("access-old"), "2026-04-24T12:00:00Z"))
        assert.strictEqual(accessToken(yield* store.load), "access-old")
        yield* store.save(apiKeyAuth(Redacted.make("sk-test")))
        const loaded = yield* store.load
        assert.isTrue(Option.isNone(Option.flatMap(loaded, (a) => a.tokens)))
        assert.isTrue(Option.isNone(Option.flatMap(loaded, (a) => a.lastRefresh)))
      })
    )

    it.scoped("a record keep put somewhere is what the next load returns, until a save replaces it", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        // on an empty store: a file store takes a kept record only when it is newer than auth.json (mtime), which a
        // save in the same clock tick would not be
        const kept = yield* store.keep(refreshedAt(chatgptAuth("access-kept", 5), "2026-04-25T13:00:00Z"))
        // a store with no place for one (memory) keeps nothing, and says so
        if (Option.isNone(kept)) return assert.isTrue(Option.isNone(yield* store.load))
        assert.isString(kept.value)
        assert.strictEqual(accessToken(yield* store.load), "access-kept")
        assert.strictEqual(counter(yield* store.load), 5)
        yield* store.save(chatgptAuth("access-2"))
        assert.strictEqual(accessToken(yield* store.load), "access-2")
      })
    )

    it.scoped("remove returns true, then false; load after remove is none", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        yield* store.save(chatgptAuth("access-1"))
        assert.isTrue(yield* store.remove)
        assert.isFalse(yield* store.remove)
        assert.isTrue(Option.isNone(yield* store.load))
      })
    )

    it.scoped("preflight passes on a fresh store and leaves it empty", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        yield* store.preflight
        assert.isTrue(Option.isNone(yield* store.load))
        yield* store.save(chatgptAuth("access-1"))
        yield* store.preflight
        assert.strictEqual(accessToken(yield* store.load), "access-1")
      })
    )

    it.scoped("setAside leaves nothing and a readable record alone", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        assert.isTrue(Option.isNone(yield* store.setAside))
        yield* store.save(chatgptAuth("access-1", 3))
        assert.isTrue(Option.isNone(yield* store.setAside))
        assert.strictEqual(accessToken(yield* store.load), "access-1")
        assert.strictEqual(counter(yield* store.load), 3)
      })
    )

    it.scoped("locked runs its effect and passes its result and error through", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        assert.strictEqual(yield* store.locked(Effect.succeed(42)), 42)
        const failed = yield* store.locked(Effect.fail("boom" as const)).pipe(Effect.flip)
        assert.strictEqual(failed, "boom")
        assert.strictEqual(yield* store.locked(Effect.succeed("again")), "again")
      })
    )

    it.scoped("locked serializes concurrent read-modify-writes", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        yield* store.save(chatgptAuth("access-1", 0))
        const increment = store.locked(
          Effect.gen(function* () {
            const current = yield* store.load
            yield* Effect.yieldNow()
            yield* store.save(chatgptAuth("access-1", counter(current) + 1))
          })
        )
        yield* Effect.all(
          Array.from({ length: 5 }, () => increment),
          { concurrency: "unbounded" }
        )
        assert.strictEqual(counter(yield* store.load), 5)
      })
    )

    it.scoped("exclusive runs its effect and passes its result and error through, with locked inside it", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        assert.strictEqual(yield* store.exclusive(Effect.succeed(42)), 42)
        const failed = yield* store.exclusive(Effect.fail("boom" as const)).pipe(Effect.flip)
        assert.strictEqual(failed, "boom")
        yield* store.exclusive(store.locked(store.save(chatgptAuth("access-1", 1))))
        assert.strictEqual(counter(yield* store.load), 1)
      })
    )

    it.scoped("exclusive lets one holder in at a time, and holding it does not hold locked", () =>
      Effect.gen(function* () {
        const store = yield* makeStore
        const events = yield* Ref.make<ReadonlyArray<string>>([])
        const log = (event: string) => Ref.update(events, (all) => [...all, event])
        const entered = yield* Deferred.make<void>()
        const leave = yield* Deferred.make<void>()
        const first = yield* Effect.fork(
          store.exclusive(
            Effect.all([log("first in"), Deferred.succeed(entered, undefined), Deferred.await(leave), log("first out")])
          )
        )
        yield* Deferred.await(entered)
        const second = yield* Effect.fork(store.exclusive(log("second in")))
        // a write under locked goes through while another fiber holds exclusive (on TestClock: with no wait at all)
        yield* store.locked(store.save(chatgptAuth("access-2", 2)))
        assert.strictEqual(accessToken(yield* store.load), "access-2")
        yield* TestClock.adjust("1 second")
        assert.isTrue(Option.isNone(yield* Fiber.poll(second)), "the second holder waits")
        yield* Deferred.succeed(leave, undefined)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        assert.deepStrictEqual(yield* Ref.get(events), ["first in", "first out", "second in"])
      })
    )
  })
}
