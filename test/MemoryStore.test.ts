import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { chatgptAuth, credentialStoreContract } from "./CredentialStore.contract.js"

credentialStoreContract("MemoryStore", MemoryStore.make())

describe("MemoryStore", () => {
  it.effect("starts from the initial record and says it is ephemeral", () =>
    Effect.gen(function* () {
      const store = yield* CredentialStore
      assert.strictEqual(store.location, "memory (ephemeral)")
      assert.isTrue(Option.isSome(yield* store.load))
    }).pipe(Effect.provide(MemoryStore.layer(Option.some(chatgptAuth("access-1")))))
  )
})
