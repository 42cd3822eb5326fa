import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Ref } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import type { StoreError } from "../src/domain/Errors.js"
import type { StoredAuth } from "../src/domain/StoredAuth.js"
import * as AutoStore from "../src/layers/AutoStore.js"
import * as FileStore from "../src/layers/FileStore.js"
import type { Keyring } from "../src/layers/Keyring.js"
import * as KeyringStore from "../src/layers/KeyringStore.js"
import { chatgptAuth, credentialStoreContract, keyringFailingOnSave, refreshedAt } from "./CredentialStore.contract.js"
import { tempDir } from "./support/tmp.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

/** An AutoStore as the CLI builds it (with the keyring-only steps), over `keyring` and auth.json in `codexHome`. */
const autoStoreWith = (keyring: Layer.Layer<Keyring>, codexHome: string) =>
  Effect.gen(function* () {
    const fallbacks = yield* Ref.make<ReadonlyArray<StoreError>>([])
    const file = yield* FileStore.make(FileStore.authJsonPath(codexHome))
    const { entry, store: keyringStore } = yield* KeyringStore.makeParts({ codexHome })
    const store = yield* AutoStore.make({
      keyring: keyringStore,
      file,
      entry,
      onFallback: (error) => Ref.update(fallbacks, (all) => [...all, error])
    })
    return { store, file, entry, keyringLocation: keyringStore.location, fallbacks: Ref.get(fallbacks) }
  }).pipe(Effect.provide(Layer.mergeAll(keyring, Platform)))

const accessToken = (auth: Option.Option<StoredAuth>): string | undefined =>
  Option.getOrUndefined(
    Option.map(
      Option.flatMap(auth, (a) => a.tokens),
      (t) => Redacted.value(t.accessToken)
    )
  )

/** The access token in the only entry of `entries`, or undefined when there is none. */
const entryToken = (entries: Map<string, string>): string | undefined => {
  assert.isAtMost(entries.size, 1)
  const [secret] = [...entries.values()]
  return secret === undefined ? undefined : JSON.parse(secret).tokens.access_token
}

const fileToken = (authPath: string): string | undefined =>
  existsSync(authPath) ? JSON.parse(readFileSync(authPath, "utf8")).tokens.access_token : undefined

const spent = refreshedAt(chatgptAuth("access-spent"), "2026-04-25T12:00:00Z")
const rotated = refreshedAt(chatgptAuth("access-rotated"), "2026-04-25T13:00:00Z")

credentialStoreContract(
  "AutoStore (keyring fails on save after a refresh)",
  Effect.flatMap(tempDir, (home) =>
    Effect.map(autoStoreWith(keyringFailingOnSave(1).layer, home), ({ store }) => store)
  )
)

describe("AutoStore after a keyring save failed", () => {
  it.scoped("the refreshed record goes to auth.json and the spent entry is removed from the keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      const keyring = keyringFailingOnSave(1)
      const { store, file, fallbacks } = yield* autoStoreWith(keyring.layer, home)
      yield* store.save(spent)
      assert.strictEqual(entryToken(keyring.entries), "access-spent")
      yield* store.save(rotated)
      assert.strictEqual(fileToken(authPath), "access-rotated")
      assert.strictEqual(keyring.entries.size, 0, "codex, reading the keyring first, finds no spent record")
      assert.strictEqual(accessToken(yield* store.load), "access-rotated")
      assert.strictEqual(store.location, file.location)
      assert.strictEqual((yield* fallbacks).length, 1)

      keyring.state.healed = true
      assert.strictEqual(accessToken(yield* store.load), "access-rotated")
      assert.strictEqual(keyring.entries.size, 0, "an empty keyring is left empty")
      assert.strictEqual(fileToken(authPath), "access-rotated")
    })
  )

  it.scoped(
    "a keyring that refuses every write keeps the spent entry; once it works, a load writes the new one back",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const authPath = join(home, "auth.json")
        const keyring = keyringFailingOnSave(1, { removeFails: true })
        const { store, file, keyringLocation } = yield* autoStoreWith(keyring.layer, home)
        yield* store.save(spent)
        yield* store.save(rotated)
        assert.strictEqual(entryToken(keyring.entries), "access-spent", "the delete was refused too")
        assert.strictEqual(fileToken(authPath), "access-rotated", "the record just written stays")

        assert.strictEqual(accessToken(yield* store.load), "access-rotated")
        assert.strictEqual(entryToken(keyring.entries), "access-spent", "the write-back was refused")
        assert.strictEqual(fileToken(authPath), "access-rotated", "a refused write-back leaves auth.json alone")
        assert.strictEqual(store.location, file.location)

        keyring.state.healed = true
        assert.strictEqual(accessToken(yield* store.load), "access-rotated")
        assert.strictEqual(entryToken(keyring.entries), "access-rotated", "the newer record is in the keyring")
        assert.isFalse(existsSync(authPath), "auth.json is gone, as codex's keyring mode expects")
        assert.strictEqual(store.location, keyringLocation)
        assert.strictEqual(accessToken(yield* store.load), "access-rotated")
      })
  )

  it.scoped("a keyring-only failure never deletes the file record just written", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      const keyring = keyringFailingOnSave(1, { removeFails: true })
      const { entry, store } = yield* autoStoreWith(keyring.layer, home)
      yield* store.save(spent)
      yield* store.save(rotated)
      assert.strictEqual(fileToken(authPath), "access-rotated")
      const forgot = yield* entry.forget.pipe(Effect.flip)
      assert.strictEqual(forgot.reason, "Keyring")
      const moved = yield* entry.moveIn(rotated, spent).pipe(Effect.flip)
      assert.strictEqual(moved.reason, "Keyring")
      assert.strictEqual(fileToken(authPath), "access-rotated")
      assert.strictEqual(accessToken(yield* store.load), "access-rotated")
      assert.strictEqual(fileToken(authPath), "access-rotated")
      assert.strictEqual(entryToken(keyring.entries), "access-spent")
    })
  )

  it.scoped("moveIn moves only the record auth.json still holds, over the entry the caller saw", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      const keyring = keyringFailingOnSave(0)
      keyring.state.healed = true
      const { entry, file, store } = yield* autoStoreWith(keyring.layer, home)
      assert.isFalse(yield* entry.moveIn(rotated, spent), "no entry: nothing to replace")
      assert.strictEqual(keyring.entries.size, 0)
      yield* store.save(spent)
      assert.isFalse(yield* entry.moveIn(rotated, spent), "no auth.json: nothing to move")
      yield* file.save(refreshedAt(chatgptAuth("access-other"), "2026-04-25T14:00:00Z"))
      assert.isFalse(yield* entry.moveIn(rotated, spent), "auth.json changed since it was read")
      assert.strictEqual(fileToken(authPath), "access-other")
      yield* file.save(rotated)
      assert.isFalse(yield* entry.moveIn(rotated, rotated), "the entry changed since it was read")
      assert.strictEqual(entryToken(keyring.entries), "access-spent")
      assert.strictEqual(fileToken(authPath), "access-rotated")
      assert.isTrue(yield* entry.moveIn(rotated, spent))
      assert.strictEqual(entryToken(keyring.entries), "access-rotated")
      assert.isFalse(existsSync(authPath))
    })
  )
})
