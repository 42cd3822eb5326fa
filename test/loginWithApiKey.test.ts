import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted, Ref } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { ApiKeyInputError } from "../src/domain/Errors.js"
import type { LoginEvent } from "../src/domain/LoginEvent.js"
import { apiKeyAuth, encodeStoredAuth } from "../src/domain/StoredAuth.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { loginWithApiKey } from "../src/services/loginWithApiKey.js"
import type { ForcedLoginMethod } from "../src/services/WorkspacePolicy.js"
import { chatgptSignIn, Platform } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

const KEY = "sk-proj-0123456789abcdef"

/** The services of an API-key login: `store`, and config.toml's forced login method. */
const services = (store: CredentialStore["Type"], forced?: ForcedLoginMethod) =>
  Layer.merge(Layer.succeed(CredentialStore, store), WorkspacePolicy.layer(Option.none(), Option.fromNullable(forced)))

/** An input that says whether it was read. */
const input = (text: string) =>
  Effect.map(Ref.make(false), (read) => ({ key: Effect.as(Ref.set(read, true), text), read: Ref.get(read) }))

describe("loginWithApiKey", () => {
  it.effect("stores the key, its ends trimmed, in codex's API-key shape", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const result = yield* loginWithApiKey({ key: Effect.succeed(`  ${KEY}\n`) }).pipe(Effect.provide(services(store)))
      assert.strictEqual(result.location, "memory (ephemeral)")
      assert.strictEqual(encodeStoredAuth(result.record), encodeStoredAuth(apiKeyAuth(Redacted.make(KEY))))
      assert.strictEqual(
        encodeStoredAuth(Option.getOrThrow(yield* store.load)),
        encodeStoredAuth(apiKeyAuth(Redacted.make(KEY)))
      )
    })
  )

  it.effect("forced_login_method = chatgpt refuses it before the key is read; nothing is stored", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make(Option.some(chatgptSignIn()))
      const given = yield* input(KEY)
      const error = yield* Effect.flip(
        loginWithApiKey({ key: given.key }).pipe(Effect.provide(services(store, "chatgpt")))
      )
      assert.strictEqual(error._tag, "LoginMethodError")
      assert.strictEqual(error.message, "API key login is disabled. Use ChatGPT login instead.")
      assert.isFalse(yield* given.read)
      assert.deepStrictEqual(Option.getOrThrow(yield* store.load).authMode, Option.some("chatgpt"))
    })
  )

  it.effect("forced_login_method = api allows it", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      yield* loginWithApiKey({ key: Effect.succeed(KEY) }).pipe(Effect.provide(services(store, "api")))
      assert.isTrue(Option.isSome(yield* store.load))
    })
  )

  it.effect("an unusable key speaks of stdin only when the key came from stdin", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const messageOf = (source?: "stdin" | "app") =>
        loginWithApiKey({ key: Effect.succeed(""), ...(source ? { source } : {}) }).pipe(
          Effect.provide(services(store)),
          Effect.flip,
          Effect.map((error) => error.message)
        )
      assert.strictEqual(yield* messageOf(), "No API key provided: the key is empty.")
      assert.strictEqual(yield* messageOf("app"), "No API key provided: the key is empty.")
      // codex's own words, for `login --with-api-key`
      assert.strictEqual(yield* messageOf("stdin"), "No API key provided via stdin.")
    })
  )

  it.effect("an unusable key or input fails with its reason and stores nothing", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make()
      const reasonOf = (key: Effect.Effect<string, ApiKeyInputError>) =>
        loginWithApiKey({ key }).pipe(
          Effect.provide(services(store)),
          Effect.flip,
          Effect.map((error) => (error._tag === "ApiKeyInputError" ? error.reason : error._tag))
        )
      assert.strictEqual(yield* reasonOf(Effect.succeed(" \n")), "Empty")
      assert.strictEqual(yield* reasonOf(Effect.succeed("sk-one two")), "Whitespace")
      assert.strictEqual(yield* reasonOf(Effect.succeed("sk-\u0007bell")), "Control")
      assert.strictEqual(
        yield* reasonOf(Effect.fail(new ApiKeyInputError({ reason: "Terminal", source: "stdin" }))),
        "Terminal"
      )
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.scoped("on a FileStore: keeps the fields of the old record that others added", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      writeFileSync(authPath, JSON.stringify({ OPENAI_API_KEY: "sk-old-key", custom: { kept: true } }), {
        mode: 0o600
      })
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      yield* loginWithApiKey({ key: Effect.succeed(KEY) }).pipe(Effect.provide(services(store)))
      assert.deepStrictEqual(JSON.parse(readFileSync(authPath, "utf8")), {
        auth_mode: "apikey",
        OPENAI_API_KEY: KEY,
        custom: { kept: true }
      })
    })
  )

  it.scoped("on a FileStore: an unreadable old record is moved aside, and told where", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = join(dir, "auth.json")
      writeFileSync(authPath, "{ not json", { mode: 0o600 })
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const events = yield* Ref.make<ReadonlyArray<LoginEvent>>([])
      yield* loginWithApiKey({
        key: Effect.succeed(KEY),
        onEvent: (event) => Ref.update(events, (all) => [...all, event])
      }).pipe(Effect.provide(services(store)))
      const [event, ...more] = yield* Ref.get(events)
      assert.deepStrictEqual(more, [])
      assert.strictEqual(event?._tag, "StoreSetAside")
      const keptAs = event?._tag === "StoreSetAside" ? event.keptAs : ""
      assert.isTrue(existsSync(keptAs))
      assert.strictEqual(readFileSync(keptAs, "utf8"), "{ not json")
      assert.strictEqual(JSON.parse(readFileSync(authPath, "utf8")).OPENAI_API_KEY, KEY)
    })
  )
})
