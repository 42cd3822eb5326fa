import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Option, Redacted, Ref, TestClock } from "effect"
import { createHash } from "node:crypto"
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import { apiKeyAuth, StoredAuth } from "../src/domain/StoredAuth.js"
import * as AutoStore from "../src/layers/AutoStore.js"
import * as FileStore from "../src/layers/FileStore.js"
import { Keyring, layer as KeyringLayer } from "../src/layers/Keyring.js"
import * as KeyringStore from "../src/layers/KeyringStore.js"
import { chatgptAuth, credentialStoreContract, refreshedAt } from "./CredentialStore.contract.js"
import { describeWithSecretService, secretTool } from "./support/secretService.js"
import { tempDir } from "./support/tmp.js"
import { fixedChatgptAuth } from "./support/records.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

/** codex's account for a CODEX_HOME, computed here without the code under test. */
const expectedAccount = (codexHome: string, profile?: string): string => {
  const hash = createHash("sha256").update(realpathSync(codexHome)).digest("hex").slice(0, 16)
  return profile === undefined ? `cli|${hash}` : `cli|${hash}|${profile}`
}

const accessToken = (auth: Option.Option<StoredAuth>): string | undefined =>
  Option.getOrUndefined(
    Option.map(
      Option.flatMap(auth, (a) => a.tokens),
      (t) => Redacted.value(t.accessToken)
    )
  )

/** A KeyringStore in the real keyring for `codexHome`; its entry is deleted when the scope closes. */
const realKeyringStore = (codexHome: string, profile?: string) =>
  Effect.gen(function* () {
    const store = yield* KeyringStore.make({ codexHome, ...(profile === undefined ? {} : { profile }) })
    yield* Effect.addFinalizer(() => secretTool.clear(expectedAccount(codexHome, profile)))
    return store
  }).pipe(Effect.provide(Layer.mergeAll(KeyringLayer, Platform)))

const fixedAuth = fixedChatgptAuth

const fixedAuthCompact =
  `{"auth_mode":"chatgpt","OPENAI_API_KEY":null,"tokens":{"id_token":"id.jwt","access_token":"access.jwt",` +
  `"refresh_token":"rt_opaque","account_id":"acct-1"},"last_refresh":"2026-04-25T12:34:56.123Z"}`

describeWithSecretService("KeyringStore against a real Secret Service", () => {
  credentialStoreContract(
    "KeyringStore (Secret Service)",
    Effect.flatMap(tempDir, (home) => realKeyringStore(home))
  )

  it.scoped("save, load and remove round-trip through the keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* realKeyringStore(home)
      assert.isTrue(Option.isNone(yield* store.load))
      yield* store.save(chatgptAuth("access-1"))
      assert.strictEqual(accessToken(yield* store.load), "access-1")
      assert.isTrue(yield* store.remove)
      assert.isTrue(Option.isNone(yield* store.load))
      assert.isTrue(Option.isNone(yield* secretTool.lookup(expectedAccount(home))))
    })
  )

  it.scoped("a save removes the profile's auth.json, as codex does", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      writeFileSync(authPath, `{"auth_mode":"apikey","OPENAI_API_KEY":"sk-old"}`, { mode: 0o600 })
      const store = yield* realKeyringStore(home)
      yield* store.save(chatgptAuth("access-1"))
      assert.isFalse(existsSync(authPath))
      assert.strictEqual(accessToken(yield* store.load), "access-1")
    })
  )

  it.scoped("stores codex's compact JSON, which secret-tool reads back byte for byte", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* realKeyringStore(home)
      yield* store.save(fixedAuth)
      const stored = yield* secretTool.lookup(expectedAccount(home))
      assert.deepStrictEqual(stored, Option.some(fixedAuthCompact))
    })
  )

  it.scoped("reads a record that secret-tool stored in codex's entry", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* realKeyringStore(home)
      yield* secretTool.store(expectedAccount(home), fixedAuthCompact)
      const loaded = yield* store.load
      assert.strictEqual(accessToken(loaded), "access.jwt")
      assert.deepStrictEqual(
        Option.flatMap(loaded, (auth) => Option.flatMap(auth.tokens, (tokens) => tokens.accountId)),
        Option.some("acct-1")
      )
    })
  )

  it.scoped("the account is cli| + 16 hex of SHA-256 of the canonical CODEX_HOME, even through a symlink", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const real = join(dir, "real-home")
      const link = join(dir, "linked-home")
      yield* Effect.sync(() => {
        mkdirSync(real)
        symlinkSync(real, link)
      })
      const account = expectedAccount(link)
      assert.strictEqual(account, `cli|${createHash("sha256").update(real).digest("hex").slice(0, 16)}`)
      assert.match(account, /^cli\|[0-9a-f]{16}$/)
      const store = yield* realKeyringStore(link)
      assert.strictEqual(store.location, `keyring (service "Codex Auth", account "${account}")`)
      yield* store.save(chatgptAuth("access-1"))
      assert.isTrue(Option.isSome(yield* secretTool.lookup(account)))
    })
  )

  it.scoped("a named profile uses cli|<hash>|<profile> and leaves the default entry alone", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* realKeyringStore(home, "work")
      const account = expectedAccount(home, "work")
      assert.strictEqual(store.location, `keyring (service "Codex Auth", account "${account}")`)
      yield* store.save(chatgptAuth("access-work"))
      assert.isTrue(Option.isSome(yield* secretTool.lookup(account)))
      assert.isTrue(Option.isNone(yield* secretTool.lookup(expectedAccount(home))))
    })
  )
})

/** A Keyring whose calls never answer, as a locked keyring waiting on a prompt. */
const HangingKeyring = Layer.succeed(Keyring, {
  get: () => Effect.never,
  set: () => Effect.never,
  remove: () => Effect.never
})

/** A Keyring that fails the way the OS keyring does when no Secret Service answers. */
const FailingKeyring = Layer.succeed(Keyring, {
  get: (service, account) => Effect.fail(unreachable(service, account)),
  set: (service, account) => Effect.fail(unreachable(service, account)),
  remove: (service, account) => Effect.fail(unreachable(service, account))
})

const unreachable = (service: string, account: string) =>
  new StoreError({
    reason: "Keyring",
    path: `keyring entry "${service}" / "${account}"`,
    detail: "Platform secure storage failure: no Secret Service on the session bus"
  })

/** An in-memory Keyring, with its entries to look at; while `state.down` it fails as {@link FailingKeyring} does. */
const memoryKeyring = () => {
  const entries = new Map<string, string>()
  const state = { down: false }
  const key = (service: string, account: string) => `${service}\u0000${account}`
  // KeyringStore builds its calls once, so whether the keyring is down is looked at when a call runs.
  const call = <A>(service: string, account: string, f: () => A) =>
    Effect.suspend(() => (state.down ? Effect.fail(unreachable(service, account)) : Effect.sync(f)))
  const layer = Layer.succeed(Keyring, {
    get: (service, account) => call(service, account, () => Option.fromNullable(entries.get(key(service, account)))),
    set: (service, account, secret) => call(service, account, () => void entries.set(key(service, account), secret)),
    remove: (service, account) => call(service, account, () => entries.delete(key(service, account)))
  })
  return { layer, entries, key, state }
}

const keyringStoreWith = (keyring: Layer.Layer<Keyring>, codexHome: string) =>
  KeyringStore.make({ codexHome }).pipe(Effect.provide(Layer.mergeAll(keyring, Platform)))

/** An AutoStore over a KeyringStore on `keyring` and auth.json in `codexHome`, recording each fallback. */
const autoStoreWith = (keyring: Layer.Layer<Keyring>, codexHome: string) =>
  Effect.gen(function* () {
    const fallbacks = yield* Ref.make<ReadonlyArray<StoreError>>([])
    const file = yield* FileStore.make(FileStore.authJsonPath(codexHome)).pipe(Effect.provide(Platform))
    const { entry, store: keyringStore } = yield* KeyringStore.makeParts({ codexHome }).pipe(
      Effect.provide(Layer.mergeAll(keyring, Platform))
    )
    const store = yield* AutoStore.make({
      keyring: keyringStore,
      file,
      entry,
      onFallback: (error) => Ref.update(fallbacks, (all) => [...all, error])
    })
    return { store, file, fallbacks: Ref.get(fallbacks) }
  })

credentialStoreContract(
  "KeyringStore (fake keyring)",
  Effect.flatMap(tempDir, (home) => keyringStoreWith(memoryKeyring().layer, home))
)

credentialStoreContract(
  "AutoStore (fake keyring)",
  Effect.flatMap(tempDir, (home) => Effect.map(autoStoreWith(memoryKeyring().layer, home), ({ store }) => store))
)

credentialStoreContract(
  "AutoStore (keyring down)",
  Effect.flatMap(tempDir, (home) => Effect.map(autoStoreWith(FailingKeyring, home), ({ store }) => store))
)

/** Waits until `fiber` has registered a sleep (its timeout) with the TestClock, or has ended. */
const untilSleeping = <A, E>(fiber: Fiber.Fiber<A, E>) =>
  Effect.gen(function* () {
    while ((yield* TestClock.sleeps()).length === 0 && Option.isNone(yield* Fiber.poll(fiber))) {
      yield* Effect.yieldNow()
    }
  })

/** Runs `effect` on the TestClock past the keyring's 3 s timeout and returns its result. */
const pastTimeout = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(effect)
    yield* untilSleeping(fiber)
    yield* TestClock.adjust("3 seconds")
    return yield* Fiber.join(fiber)
  })

describe("KeyringStore with a fake keyring", () => {
  it.scoped("a keyring that never answers fails with reason Keyring after exactly 3 s", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* keyringStoreWith(HangingKeyring, home)
      const fiber = yield* Effect.fork(store.load)
      yield* untilSleeping(fiber)
      yield* TestClock.adjust("2999 millis")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting at 2.999 s")
      yield* TestClock.adjust("1 millis")
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.instanceOf(error, StoreError)
      assert.strictEqual(error.reason, "Keyring")
      assert.include(error.message, expectedAccount(home))
      assert.include(error.message, "3s")
      assert.include(error.message, "--store file")
    })
  )

  it.scoped("a failing keyring gives a message naming the entry and --store file", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const store = yield* keyringStoreWith(FailingKeyring, home)
      const error = yield* store.load.pipe(Effect.flip)
      assert.strictEqual(error.reason, "Keyring")
      assert.include(error.message, `"Codex Auth" / "${expectedAccount(home)}"`)
      assert.include(error.message, "OS keyring cannot be used")
      assert.include(error.message, "--store file")
      const saveError = yield* store.save(chatgptAuth("access-1")).pipe(Effect.flip)
      assert.strictEqual(saveError.reason, "Keyring")
      assert.isFalse(existsSync(join(home, "auth.json")))
    })
  )

  it.scoped("keeps the record in the keyring as compact JSON and removes auth.json", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      writeFileSync(join(home, "auth.json"), "{}", { mode: 0o600 })
      const store = yield* keyringStoreWith(keyring.layer, home)
      yield* store.save(fixedAuth)
      assert.strictEqual(keyring.entries.get(keyring.key("Codex Auth", expectedAccount(home))), fixedAuthCompact)
      assert.isFalse(existsSync(join(home, "auth.json")))
    })
  )
})

describe("AutoStore", () => {
  for (const [name, keyring] of [
    ["never answers", HangingKeyring],
    ["fails", FailingKeyring]
  ] as const) {
    it.scoped(`falls back to auth.json when the keyring ${name}, and says so once`, () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const authPath = join(home, "auth.json")
        const { store, fallbacks } = yield* autoStoreWith(keyring, home)
        yield* pastTimeout(store.save(chatgptAuth("access-1")))
        assert.isTrue(existsSync(authPath))
        assert.strictEqual(JSON.parse(readFileSync(authPath, "utf8")).tokens.access_token, "access-1")
        assert.strictEqual(accessToken(yield* pastTimeout(store.load)), "access-1")
        assert.strictEqual(store.location, `file ${authPath}`)
        const reasons = yield* fallbacks
        assert.strictEqual(reasons.length, 1)
        assert.strictEqual(reasons[0]!.reason, "Keyring")
        assert.include(reasons[0]!.message, expectedAccount(home))
      })
    )
  }

  it.scoped("with a working keyring keeps auth.json untouched and names the keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      const { store, fallbacks } = yield* autoStoreWith(keyring.layer, home)
      yield* store.save(chatgptAuth("access-1"))
      assert.isFalse(existsSync(join(home, "auth.json")))
      assert.isTrue(keyring.entries.has(keyring.key("Codex Auth", expectedAccount(home))))
      assert.strictEqual(accessToken(yield* store.load), "access-1")
      assert.strictEqual(store.location, `keyring (service "Codex Auth", account "${expectedAccount(home)}")`)
      assert.deepStrictEqual(yield* fallbacks, [])
    })
  )

  it.scoped(
    "load takes the keyring's record when it was refreshed later, else moves auth.json's into the keyring",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const authPath = join(home, "auth.json")
        const keyring = memoryKeyring()
        const entry = keyring.key("Codex Auth", expectedAccount(home))
        const { store, file, fallbacks } = yield* autoStoreWith(keyring.layer, home)
        const keyringLocation = `keyring (service "Codex Auth", account "${expectedAccount(home)}")`
        keyring.entries.set(entry, fixedAuthCompact)
        yield* file.save(refreshedAt(chatgptAuth("from-file"), "2026-04-25T12:00:00Z"))
        assert.strictEqual(accessToken(yield* store.load), "access.jwt")
        assert.strictEqual(store.location, keyringLocation)
        assert.isTrue(existsSync(authPath), "an older file is left alone")
        yield* file.save(refreshedAt(chatgptAuth("from-file"), "2026-04-25T12:34:56.123Z"))
        assert.strictEqual(
          accessToken(yield* store.load),
          "from-file",
          "a tie goes to the file, written after the entry"
        )
        assert.strictEqual(store.location, keyringLocation, "and it is moved into the keyring")
        assert.strictEqual(JSON.parse(keyring.entries.get(entry)!).tokens.access_token, "from-file")
        assert.isFalse(existsSync(authPath))
        assert.strictEqual(accessToken(yield* store.load), "from-file")
        keyring.entries.clear()
        yield* file.save(chatgptAuth("from-file-2"))
        assert.strictEqual(accessToken(yield* store.load), "from-file-2")
        assert.strictEqual(store.location, file.location)
        assert.isFalse(keyring.entries.has(entry), "an empty keyring holds nothing codex could read first")
        assert.isTrue(existsSync(authPath))
        assert.deepStrictEqual(yield* fallbacks, [])
      })
  )

  it.scoped(
    "a save that fell back to auth.json wins over the older record a recovered keyring holds, and replaces it",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const authPath = join(home, "auth.json")
        const keyring = memoryKeyring()
        const entry = keyring.key("Codex Auth", expectedAccount(home))
        const { store, file, fallbacks } = yield* autoStoreWith(keyring.layer, home)
        yield* store.save(refreshedAt(chatgptAuth("access-1"), "2026-04-25T12:00:00Z"))
        const older = keyring.entries.get(entry)
        assert.isFalse(existsSync(authPath))

        keyring.state.down = true
        yield* store.save(refreshedAt(chatgptAuth("access-2"), "2026-04-25T13:00:00Z"))
        assert.strictEqual(JSON.parse(readFileSync(authPath, "utf8")).tokens.access_token, "access-2")
        assert.strictEqual(store.location, file.location)

        keyring.state.down = false
        assert.strictEqual(keyring.entries.get(entry), older, "the keyring came back holding the spent record")
        assert.strictEqual(accessToken(yield* store.load), "access-2")
        assert.strictEqual(JSON.parse(keyring.entries.get(entry)!).tokens.access_token, "access-2", "written back")
        assert.isFalse(existsSync(authPath), "and auth.json removed, as a keyring save does")
        assert.strictEqual(store.location, `keyring (service "Codex Auth", account "${expectedAccount(home)}")`)
        assert.notStrictEqual(file.location, store.location)
        assert.strictEqual(accessToken(yield* store.load), "access-2")
        assert.strictEqual((yield* fallbacks).length, 1)

        assert.isTrue(yield* store.remove)
        assert.isFalse(keyring.entries.has(entry))
        assert.isFalse(existsSync(authPath))
        assert.isTrue(Option.isNone(yield* store.load))
      })
  )

  it.scoped("an API-key sign-in that fell back wins over the ChatGPT sign-in left in the keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      const { store, file } = yield* autoStoreWith(keyring.layer, home)
      yield* store.save(refreshedAt(chatgptAuth("access-1"), "2026-04-25T12:00:00Z"))
      keyring.state.down = true
      yield* store.save(apiKeyAuth(Redacted.make("sk-new")))
      keyring.state.down = false
      const key = Option.flatMap(yield* store.load, (a) => a.apiKey)
      assert.strictEqual(Option.getOrUndefined(Option.map(key, Redacted.value)), "sk-new")
      assert.notStrictEqual(store.location, file.location, "moved into the keyring, which codex reads first")
      const entry = keyring.entries.get(keyring.key("Codex Auth", expectedAccount(home)))
      assert.strictEqual(JSON.parse(entry!).OPENAI_API_KEY, "sk-new")
      assert.isFalse(existsSync(join(home, "auth.json")))
    })
  )

  it.scoped("once the keyring is back, the next save goes there and removes auth.json", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      const keyring = memoryKeyring()
      const { store, fallbacks } = yield* autoStoreWith(keyring.layer, home)
      keyring.state.down = true
      yield* store.save(refreshedAt(chatgptAuth("access-1"), "2026-04-25T12:00:00Z"))
      assert.strictEqual(accessToken(yield* store.load), "access-1")
      keyring.state.down = false
      yield* store.save(refreshedAt(chatgptAuth("access-2"), "2026-04-25T13:00:00Z"))
      assert.isFalse(existsSync(authPath))
      assert.strictEqual(accessToken(yield* store.load), "access-2")
      assert.strictEqual(store.location, `keyring (service "Codex Auth", account "${expectedAccount(home)}")`)
      assert.strictEqual((yield* fallbacks).length, 1, "one warning per store")
    })
  )
})
