import { Effect, Layer, Option, Ref } from "effect"
import type { StoreError } from "../domain/Errors.js"
import { CredentialStore } from "../services/CredentialStore.js"

/** Options of {@link make}: the two stores, and who hears (once) why the keyring was given up. */
export interface AutoStoreOptions {
  readonly keyring: CredentialStore["Type"]
  readonly file: CredentialStore["Type"]
  readonly onFallback: (reason: StoreError) => Effect.Effect<void>
}

const isKeyringFailure = (error: StoreError) => error.reason === "Keyring"

/**
 * Keyring first, the file on any keyring failure or timeout (announced once through `onFallback`). `load` looks in
 * the keyring, then the file; `location` says which one holds the sign-in now.
 */
export const make = (options: AutoStoreOptions): Effect.Effect<CredentialStore["Type"]> =>
  Effect.gen(function* () {
    const { file, keyring } = options
    const warned = yield* Ref.make(false)
    let location = keyring.location

    const use = (store: CredentialStore["Type"]) =>
      Effect.sync(() => {
        location = store.location
      })

    const fallBack = (error: StoreError) =>
      Effect.zipRight(
        Effect.flatMap(Ref.getAndSet(warned, true), (already) => (already ? Effect.void : options.onFallback(error))),
        use(file)
      )

    const load: CredentialStore["Type"]["load"] = keyring.load.pipe(
      Effect.tap(() => use(keyring)),
      Effect.catchIf(isKeyringFailure, (error) => Effect.as(fallBack(error), Option.none())),
      Effect.flatMap((found) =>
        Option.isSome(found)
          ? Effect.succeed(found)
          : Effect.tap(file.load, (inFile) => (Option.isSome(inFile) ? use(file) : Effect.void))
      )
    )

    const save: CredentialStore["Type"]["save"] = (auth) =>
      keyring.save(auth).pipe(
        Effect.zipRight(use(keyring)),
        Effect.catchIf(isKeyringFailure, (error) => Effect.zipRight(fallBack(error), file.save(auth)))
      )

    const remove: CredentialStore["Type"]["remove"] = Effect.zipWith(
      keyring.remove.pipe(Effect.catchIf(isKeyringFailure, (error) => Effect.as(fallBack(error), false))),
      file.remove,
      (a, b) => a || b
    )

    return {
      get location() {
        return location
      },
      load,
      save,
      remove,
      locked: file.locked
    }
  })

/** An AutoStore layer. */
export const layer = (options: AutoStoreOptions): Layer.Layer<CredentialStore> =>
  Layer.effect(CredentialStore, make(options))
