import { assert, describe, it } from "@effect/vitest"
import { DateTime, Effect, Layer, Option, Redacted, TestClock } from "effect"
import { readdirSync, readFileSync, realpathSync, statSync } from "node:fs"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import { encodeStoredAuth, encodeStoredAuthCompact, StoredAuth } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as AutoStore from "../src/layers/AutoStore.js"
import * as FileStore from "../src/layers/FileStore.js"
import { Keyring } from "../src/layers/Keyring.js"
import * as KeyringStore from "../src/layers/KeyringStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import { unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { keyringFailingOnSave } from "./CredentialStore.contract.js"
import { chatgptSignIn, Platform } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

/**
 * An issuer's refresh answer that the keyring would not take is kept beside the entry (`keep`, a temp file in
 * auth.json's format), and the next command's store finds it: each session here is a command of its own, a fresh
 * store and session over the same CODEX_HOME and keyring, with a scripted issuer that counts its refreshes.
 */

const NOW = "2026-04-25T13:00:00Z"

/** A sign-in refreshed an hour before {@link NOW}, whose access token expired then too. */
const expiredSignIn = new StoredAuth({
  ...chatgptSignIn({
    accessToken: unsignedJwt({ sub: "user-test", exp: Date.parse("2026-04-25T12:00:00Z") / 1000 }),
    refreshToken: "rt_spent"
  }),
  lastRefresh: Option.some(DateTime.unsafeMake("2026-04-25T12:00:00Z"))
})

const ENTRY = (home: string) => `Codex Auth\u0000${KeyringStore.keyringAccount(realpathSync(home))}`

/** The record in the keyring's entry for `home`, as JSON. */
const entryOf = (entries: Map<string, string>, home: string) => {
  const secret = entries.get(ENTRY(home))
  return secret === undefined ? undefined : JSON.parse(secret)
}

/** A loaded record as auth.json would hold it, for comparing. */
const asJson = (loaded: Option.Option<StoredAuth>) => Option.map(loaded, encodeStoredAuth)

const keptFiles = (home: string) => readdirSync(home).filter((name) => name.startsWith(".auth.json.tmp-"))
const authFiles = (home: string) =>
  readdirSync(home).filter((name) => name.startsWith("auth.json") && !name.endsWith(".lock"))

/** A session (one command) over `store` and the scripted issuer: the access token it serves, or its failure. */
const accessToken = (store: CredentialStore["Type"], issuer: ScriptedIssuer.ScriptedIssuer) =>
  Effect.flatMap(AuthSession.AuthSession, (session) => session.accessToken).pipe(
    Effect.map(Redacted.value),
    Effect.provide(
      AuthSession.layer().pipe(Layer.provide(Layer.merge(Layer.succeed(CredentialStore, store), issuer.layer)))
    )
  )

const keyringStore = (keyring: Layer.Layer<Keyring>, home: string) =>
  KeyringStore.make({ codexHome: home }).pipe(Effect.provide(Layer.mergeAll(keyring, Platform)))

/** An AutoStore as the CLI builds it, over `keyring` and auth.json in `home`. */
const autoStore = (keyring: Layer.Layer<Keyring>, home: string) =>
  Effect.gen(function* () {
    const file = yield* FileStore.make(FileStore.authJsonPath(home))
    const { entry, store } = yield* KeyringStore.makeParts({ codexHome: home })
    return yield* AutoStore.make({ keyring: store, file, entry, onFallback: () => Effect.void })
  }).pipe(Effect.provide(Layer.mergeAll(keyring, Platform)))

/** A signed-in CODEX_HOME whose access token is due, the clock at {@link NOW}, and a scripted issuer. */
const signedIn = Effect.gen(function* () {
  yield* TestClock.setTime(Date.parse(NOW))
  const home = yield* tempDir
  const issuer = yield* ScriptedIssuer.make({ tokenLifetime: "1 hour" })
  return { home, issuer }
})

/** Checks that the session's failure kept the refresh answer in the one temp file beside the entry; its record. */
const assertKept = (error: unknown, home: string) => {
  assert.instanceOf(error, StoreError)
  assert.strictEqual(error.reason, "Keyring")
  const kept = keptFiles(home)
  assert.strictEqual(kept.length, 1, "one record kept")
  const keptPath = join(home, kept[0]!)
  assert.strictEqual(error.keptIn, keptPath)
  assert.include(error.message, `The new sign-in is kept in ${keptPath}, which the next devicecode command moves`)
  assert.strictEqual(statSync(keptPath).mode & 0o777, 0o600)
  const record = JSON.parse(readFileSync(keptPath, "utf8"))
  assert.strictEqual(record.tokens.refresh_token, "rt_test_1", "the rotated refresh token, in auth.json's format")
  return record
}

describe("KeyringStore: a refresh answer the keyring would not take", () => {
  it.scoped("a keyring that will not take a write fails the refresh before its request: nothing spent", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* signedIn
      const keyring = keyringFailingOnSave(1)
      yield* (yield* keyringStore(keyring.layer, home)).save(expiredSignIn)
      const error = yield* accessToken(yield* keyringStore(keyring.layer, home), issuer).pipe(Effect.flip)
      assert.instanceOf(error, StoreError)
      assert.strictEqual(error.reason, "Keyring")
      assert.isUndefined(error.keptIn)
      assert.strictEqual((yield* issuer.calls).refresh, 0, "the write-probe failed: no request was sent")
      assert.deepStrictEqual(keptFiles(home), [])
      assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_spent", "the entry is as it was")

      keyring.state.healed = true
      yield* accessToken(yield* keyringStore(keyring.layer, home), issuer)
      assert.strictEqual((yield* issuer.calls).refresh, 1)
      assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_test_1")
    })
  )

  it.scoped("is kept; the next command serves it without a refresh and moves it into the keyring", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* signedIn
      // the first save and the refresh's write-probe are taken; the save of its answer is not
      const keyring = keyringFailingOnSave(2)
      yield* (yield* keyringStore(keyring.layer, home)).save(expiredSignIn)

      const error = yield* accessToken(yield* keyringStore(keyring.layer, home), issuer).pipe(Effect.flip)
      const kept = assertKept(error, home)
      assert.strictEqual((yield* issuer.calls).refresh, 1)
      assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_spent", "the entry is as it was")

      keyring.state.healed = true
      const served = yield* accessToken(yield* keyringStore(keyring.layer, home), issuer)
      assert.strictEqual(served, kept.tokens.access_token, "the kept access token is served")
      assert.strictEqual((yield* issuer.calls).refresh, 1, "no second refresh, with a spent token or any")
      assert.deepStrictEqual(entryOf(keyring.entries, home), kept, "the keyring holds the kept record")
      assert.deepStrictEqual(authFiles(home), [], "no auth file is left")
      assert.deepStrictEqual(keptFiles(home), [])
    })
  )

  it.scoped("while the keyring still fails, the next command serves it anyway and leaves it for a later one", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* signedIn
      const keyring = keyringFailingOnSave(2)
      yield* (yield* keyringStore(keyring.layer, home)).save(expiredSignIn)
      const kept = assertKept(
        yield* accessToken(yield* keyringStore(keyring.layer, home), issuer).pipe(Effect.flip),
        home
      )

      const served = yield* accessToken(yield* keyringStore(keyring.layer, home), issuer)
      assert.strictEqual(served, kept.tokens.access_token)
      assert.strictEqual((yield* issuer.calls).refresh, 1)
      assert.strictEqual(keptFiles(home).length, 1, "still kept")
      assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_spent")

      keyring.state.healed = true
      assert.strictEqual(yield* accessToken(yield* keyringStore(keyring.layer, home), issuer), served)
      assert.deepStrictEqual(entryOf(keyring.entries, home), kept)
      assert.deepStrictEqual(keptFiles(home), [])
      assert.strictEqual((yield* issuer.calls).refresh, 1)
    })
  )

  it.scoped("a kept record older than the entry is dropped, and the entry served", () =>
    Effect.gen(function* () {
      const { home } = yield* signedIn
      const keyring = keyringFailingOnSave(0)
      keyring.state.healed = true
      const store = yield* keyringStore(keyring.layer, home)
      const newer = new StoredAuth({ ...expiredSignIn, lastRefresh: Option.some(DateTime.unsafeMake(NOW)) })
      yield* store.save(newer)
      const kept = yield* store.keep(expiredSignIn)
      assert.isTrue(Option.isSome(kept))
      assert.deepStrictEqual(asJson(yield* store.load), Option.some(encodeStoredAuth(newer)))
      assert.deepStrictEqual(keptFiles(home), [])
      assert.deepStrictEqual(entryOf(keyring.entries, home), JSON.parse(encodeStoredAuthCompact(newer)))
    })
  )

  it.scoped("a record kept with no entry at all (a login's) becomes the entry", () =>
    Effect.gen(function* () {
      const { home } = yield* signedIn
      const keyring = keyringFailingOnSave(0)
      const store = yield* keyringStore(keyring.layer, home)
      assert.isTrue(Option.isSome(yield* store.keep(expiredSignIn)))
      assert.deepStrictEqual(asJson(yield* store.load), Option.some(encodeStoredAuth(expiredSignIn)))
      assert.strictEqual(keyring.entries.size, 0, "the keyring refused it")
      keyring.state.healed = true
      assert.deepStrictEqual(asJson(yield* store.load), Option.some(encodeStoredAuth(expiredSignIn)))
      assert.deepStrictEqual(entryOf(keyring.entries, home), JSON.parse(encodeStoredAuthCompact(expiredSignIn)))
      assert.deepStrictEqual(keptFiles(home), [])
    })
  )

  it.scoped("with nothing kept, a load reads the entry alone: an auth.json beside it is not looked at", () =>
    Effect.gen(function* () {
      const { home } = yield* signedIn
      const keyring = keyringFailingOnSave(0)
      keyring.state.healed = true
      const store = yield* keyringStore(keyring.layer, home)
      const file = yield* FileStore.make(FileStore.authJsonPath(home)).pipe(Effect.provide(Platform))
      yield* file.save(expiredSignIn)
      assert.isTrue(Option.isNone(yield* store.load), "a file-mode sign-in is not the keyring's")
      assert.deepStrictEqual(authFiles(home), ["auth.json"])
      assert.strictEqual(keyring.entries.size, 0)
    })
  )

  it.scoped("logout removes a kept record with the entry", () =>
    Effect.gen(function* () {
      const { home } = yield* signedIn
      const keyring = keyringFailingOnSave(1)
      const store = yield* keyringStore(keyring.layer, home)
      yield* store.save(expiredSignIn)
      yield* store.keep(expiredSignIn)
      assert.isTrue(yield* store.remove)
      assert.deepStrictEqual(keptFiles(home), [])
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )
})

/** A keyring that fails every call (reads included), as a daemon that died, while `failing` holds. */
const keyringFailingWhile = (failing: Effect.Effect<boolean>) => {
  const inner = keyringFailingOnSave(Number.MAX_SAFE_INTEGER)
  const gone = new StoreError({ reason: "Keyring", path: "keyring", detail: "Platform secure storage failure: gone" })
  const check = Effect.flatMap(failing, (down) => (down ? Effect.fail(gone) : Effect.void))
  const layer = Layer.effect(
    Keyring,
    Effect.map(Keyring, (keyring) =>
      Keyring.of({
        get: (service, account) => Effect.zipRight(check, keyring.get(service, account)),
        set: (service, account, secret) => Effect.zipRight(check, keyring.set(service, account, secret)),
        remove: (service, account) => Effect.zipRight(check, keyring.remove(service, account))
      })
    )
  ).pipe(Layer.provide(inner.layer))
  return { layer, entries: inner.entries }
}

describe("AutoStore: a refresh answer the keyring would not take", () => {
  it.scoped("keep puts it beside auth.json; the next load serves it and moves it over the spent entry", () =>
    Effect.gen(function* () {
      const { home } = yield* signedIn
      const keyring = keyringFailingOnSave(1)
      const store = yield* autoStore(keyring.layer, home)
      yield* store.save(expiredSignIn)
      const rotated = new StoredAuth({ ...expiredSignIn, lastRefresh: Option.some(DateTime.unsafeMake(NOW)) })
      const kept = yield* store.keep(rotated)
      assert.isTrue(Option.isSome(kept) && Option.getOrThrow(kept).startsWith(join(home, ".auth.json.tmp-")))

      assert.deepStrictEqual(
        asJson(yield* store.load),
        Option.some(encodeStoredAuth(rotated)),
        "served while the keyring refuses it"
      )
      assert.deepStrictEqual(authFiles(home), ["auth.json"], "adopted as auth.json")
      assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_spent", "the entry is as it was")

      keyring.state.healed = true
      const next = yield* autoStore(keyring.layer, home)
      assert.deepStrictEqual(asJson(yield* next.load), Option.some(encodeStoredAuth(rotated)))
      assert.deepStrictEqual(entryOf(keyring.entries, home), JSON.parse(encodeStoredAuthCompact(rotated)))
      assert.deepStrictEqual(authFiles(home), [])
      assert.deepStrictEqual(keptFiles(home), [])
    })
  )

  it.scoped(
    "a keyring that stops answering during the refresh: the answer is kept, not taken for a sign-out; the next command writes it into the keyring",
    () =>
      Effect.gen(function* () {
        const { home, issuer } = yield* signedIn
        // the keyring goes away once the issuer has answered the refresh, until it comes back
        const back = { now: false }
        const keyring = keyringFailingWhile(Effect.map(issuer.calls, (calls) => calls.refresh >= 1 && !back.now))
        yield* (yield* autoStore(keyring.layer, home)).save(expiredSignIn)

        const error = yield* accessToken(yield* autoStore(keyring.layer, home), issuer).pipe(Effect.flip)
        const kept = assertKept(error, home)
        assert.strictEqual((yield* issuer.calls).refresh, 1)
        assert.strictEqual(entryOf(keyring.entries, home).tokens.refresh_token, "rt_spent")

        back.now = true
        const served = yield* accessToken(yield* autoStore(keyring.layer, home), issuer)
        assert.strictEqual(served, kept.tokens.access_token)
        assert.strictEqual((yield* issuer.calls).refresh, 1)
        assert.deepStrictEqual(entryOf(keyring.entries, home), kept, "codex, reading the keyring first, finds it")
        assert.deepStrictEqual(authFiles(home), [])
        assert.deepStrictEqual(keptFiles(home), [])
      })
  )
})
