import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"

/**
 * A `CredentialStore` that holds the sign-in in memory only (`ephemeral`); `locked` and `exclusive` each serialize
 * fibers, apart from each other. It can always save, and never holds an unreadable record.
 */
export const make = (initial: Option.Option<StoredAuth> = Option.none()): Effect.Effect<CredentialStore["Type"]> =>
  Effect.gen(function* () {
    const ref = yield* Ref.make(initial)
    const writeSemaphore = yield* Effect.makeSemaphore(1)
    const refreshSemaphore = yield* Effect.makeSemaphore(1)
    return {
      location: "memory (ephemeral)",
      load: Ref.get(ref).pipe(Effect.withSpan("MemoryStore.load")),
      save: Effect.fn("MemoryStore.save")((auth: StoredAuth) => Ref.set(ref, Option.some(auth))),
      // nothing is ever refused, and there is no place beside memory to keep a record
      keep: () => Effect.succeedNone,
      reserve: () => Effect.succeed({}),
      remove: Ref.getAndSet(ref, Option.none()).pipe(Effect.map(Option.isSome), Effect.withSpan("MemoryStore.remove")),
      locked: (self) => writeSemaphore.withPermits(1)(self),
      exclusive: (self) => refreshSemaphore.withPermits(1)(self),
      preflight: Effect.void.pipe(Effect.withSpan("MemoryStore.preflight")),
      setAside: Effect.succeedNone.pipe(Effect.withSpan("MemoryStore.setAside"))
    }
  })

/** A `CredentialStore` layer held in memory, starting from `initial`. */
export const layer = (initial: Option.Option<StoredAuth> = Option.none()): Layer.Layer<CredentialStore> =>
  Layer.effect(CredentialStore, make(initial))
