import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Ref } from "effect"
import { mkdirSync, rmSync } from "node:fs"
import { join } from "node:path"
import { StoreError } from "../src/domain/Errors.js"
import * as AutoStore from "../src/layers/AutoStore.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as KeyringStore from "../src/layers/KeyringStore.js"
import { Keyring } from "../src/layers/Keyring.js"
import { chatgptAuth } from "./CredentialStore.contract.js"
import { tempDir } from "./support/tmp.js"

// preflight and setAside of the keyring stores, over an in-memory keyring that can be taken down.

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const memoryKeyring = () => {
  const entries = new Map<string, string>()
  const state = { down: false }
  const call = <A>(service: string, account: string, f: () => A) =>
    Effect.suspend(() =>
      state.down
        ? Effect.fail(new StoreError({ reason: "Keyring", path: `${service}/${account}`, detail: "no Secret Service" }))
        : Effect.sync(f)
    )
  const layer = Layer.succeed(Keyring, {
    get: (service, account) => call(service, account, () => Option.fromNullable(entries.get(account))),
    set: (service, account, secret) => call(service, account, () => void entries.set(account, secret)),
    remove: (service, account) => call(service, account, () => entries.delete(account))
  })
  return { layer, entries, state }
}

const keyringStore = (keyring: ReturnType<typeof memoryKeyring>, codexHome: string) =>
  KeyringStore.make({ codexHome }).pipe(Effect.provide(Layer.merge(keyring.layer, Platform)))

describe("KeyringStore.setAside", () => {
  it.scoped("moves an unreadable entry to <account>|unreadable-<time>, intact, and says where", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      const store = yield* keyringStore(keyring, home)
      yield* store.save(chatgptAuth("access-1"))
      const [account] = [...keyring.entries.keys()]
      keyring.entries.set(account!, "{not json")
      assert.strictEqual((yield* Effect.flip(store.load)).reason, "Corrupt")
      const keptAs = `${account}|unreadable-1970-01-01T00-00-00.000Z`
      assert.deepStrictEqual(
        yield* store.setAside,
        Option.some(`keyring (service "${KeyringStore.KEYRING_SERVICE}", account "${keptAs}")`)
      )
      assert.strictEqual(keyring.entries.get(keptAs), "{not json")
      assert.isFalse(keyring.entries.has(account!))
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )
})

describe("KeyringStore.preflight and AutoStore.preflight", () => {
  it.scoped("a keyring that does not answer fails the keyring store's preflight with reason Keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      const store = yield* keyringStore(keyring, home)
      yield* store.preflight
      keyring.state.down = true
      assert.strictEqual((yield* Effect.flip(store.preflight)).reason, "Keyring")
    })
  )

  it.scoped("the keyring store checks CODEX_HOME's lock files too", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      mkdirSync(join(home, "auth.lock"))
      const store = yield* keyringStore(memoryKeyring(), home)
      const error = yield* Effect.flip(store.preflight)
      assert.strictEqual(error.reason, "Io")
      assert.include(error.message, join(home, "auth.lock"))
    })
  )

  it.scoped("the auto store falls back to the file, says so once, and checks the file", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      keyring.state.down = true
      const fallbacks = yield* Ref.make(0)
      const file = yield* FileStore.make(FileStore.authJsonPath(home)).pipe(Effect.provide(Platform))
      const store = yield* AutoStore.make({
        keyring: yield* keyringStore(keyring, home),
        file,
        onFallback: () => Ref.update(fallbacks, (n) => n + 1)
      })
      yield* store.preflight
      assert.strictEqual(yield* Ref.get(fallbacks), 1)
      assert.strictEqual(store.location, file.location)
      // the first preflight made codex's lock files; one that cannot be opened fails the next
      rmSync(join(home, "auth.lock"))
      mkdirSync(join(home, "auth.lock"))
      assert.strictEqual((yield* Effect.flip(store.preflight)).reason, "Io")
    })
  )
})
