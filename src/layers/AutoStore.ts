import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type { StoreError } from "../domain/Errors.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore, type SaveOptions } from "../services/CredentialStore.js"
import { entryIsNewer, type KeyringEntry } from "./KeyringStore.js"

/**
 * Options of {@link make}: the two stores, who hears (once) why the keyring was given up, and the keyring-only steps
 * on the keyring store's entry (`KeyringStore.makeParts`), without which a spent entry is neither removed nor replaced.
 */
export interface AutoStoreOptions {
  readonly keyring: CredentialStore["Type"]
  readonly file: CredentialStore["Type"]
  readonly onFallback: (reason: StoreError) => Effect.Effect<void>
  readonly entry?: KeyringEntry
}

const isKeyringFailure = (error: StoreError) => error.reason === "Keyring"

/**
 * Keyring first, the file on any keyring failure or timeout (announced once through `onFallback`). `load` reads both
 * and returns the newer record, so an entry left in the keyring by a save that fell back is not handed out again;
 * `location` says which one holds the sign-in now. codex reads the keyring first, so such an entry is repaired where
 * it can be (with `entry`): a save that fell back then deletes it (unless the keyring just did not answer), and a
 * `load` that finds the keyring answering with an older record than the file's moves the file's into the keyring and
 * removes auth.json, as a keyring save does. Both are keyring-only and best effort: neither ever removes a record the
 * keyring does not hold, and a failure is only logged (debug). `preflight` checks the keyring, or else the file;
 * `setAside` both. `locked` and `exclusive` are the file store's, whichever place holds the sign-in, as codex locks in
 * CODEX_HOME.
 *
 * `keep` is the file store's: an issuer's answer that no save could take goes beside auth.json, the file store's
 * `load` adopts it as auth.json, and from there it is moved into a keyring that answers with an older record, as
 * above. A keyring that fails after it answered with a sign-in (in this store's life) fails `load` with its error
 * while the file holds nothing: that sign-in is out of sight, not gone, and a refresh that took it for a sign-out
 * would drop its answer instead of keeping it.
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

    const bestEffort = (what: string, step: Effect.Effect<boolean, StoreError>) =>
      step.pipe(Effect.catchAll((error) => Effect.as(Effect.logDebug(`could not ${what}: ${error.message}`), false)))

    // after a save fell back: the entry still holds the record that save replaced, spent if it was a refresh
    const forgetSpent =
      options.entry === undefined
        ? Effect.void
        : bestEffort("remove the keyring entry a save fell back from", options.entry.forget)

    const moveIn = (auth: StoredAuth, over: StoredAuth) =>
      options.entry === undefined
        ? Effect.void
        : Effect.flatMap(
            bestEffort("move the newer record into the keyring", options.entry.moveIn(auth, over)),
            (moved) => (moved ? use(keyring) : Effect.void)
          )

    // the entry alone: a record kept beside it is the file store's to adopt, as auth.json
    const readKeyring = options.entry?.load ?? keyring.load

    // whether the keyring held the sign-in when it last answered
    let heldByKeyring = false
    const held = (inKeyring: boolean) =>
      Effect.sync(() => {
        heldByKeyring = inKeyring
      })

    const load: CredentialStore["Type"]["load"] = Effect.gen(function* () {
      const inKeyring = yield* readKeyring.pipe(
        Effect.tap((found) => held(Option.isSome(found))),
        Effect.map(Either.right),
        Effect.catchIf(isKeyringFailure, (error) => Effect.succeed(Either.left(error)))
      )
      const inFile = yield* file.load
      if (Either.isLeft(inKeyring)) {
        // a sign-in the keyring held a moment ago is out of sight, not gone: a refresh must not take it for a sign-out
        if (Option.isNone(inFile) && heldByKeyring) return yield* inKeyring.left
        yield* fallBack(inKeyring.left)
        return inFile
      }
      if (Option.isNone(inFile) || entryIsNewer(inKeyring.right, inFile.value)) {
        yield* use(keyring)
        return inKeyring.right
      }
      yield* use(file)
      // the keyring answered with an older record, which codex would read first
      if (Option.isSome(inKeyring.right)) yield* moveIn(inFile.value, inKeyring.right.value)
      return inFile
    }).pipe(Effect.withSpan("AutoStore.load"))

    // the keyring's write-probe; a keyring that fails it is given up for auth.json, whose room is set aside instead
    const reserve: CredentialStore["Type"]["reserve"] = (like) =>
      keyring.reserve(like).pipe(
        Effect.catchIf(isKeyringFailure, (error) => Effect.zipRight(fallBack(error), file.reserve(like))),
        Effect.withSpan("AutoStore.reserve")
      )

    const save: CredentialStore["Type"]["save"] = Effect.fn("AutoStore.save")(
      (auth: StoredAuth, saveOptions?: SaveOptions) =>
        keyring.save(auth).pipe(
          Effect.zipRight(Effect.zipRight(held(true), use(keyring))),
          Effect.catchIf(isKeyringFailure, (error) =>
            Effect.zipRight(fallBack(error), file.save(auth, saveOptions)).pipe(Effect.zipRight(forgetSpent))
          )
        )
    )

    const remove: CredentialStore["Type"]["remove"] = Effect.zipWith(
      keyring.remove.pipe(Effect.catchIf(isKeyringFailure, (error) => Effect.as(fallBack(error), false))),
      file.remove,
      (a, b) => a || b
    ).pipe(Effect.tap(held(false)), Effect.withSpan("AutoStore.remove"))

    const preflight: CredentialStore["Type"]["preflight"] = keyring.preflight.pipe(
      Effect.catchIf(isKeyringFailure, (error) => Effect.zipRight(fallBack(error), file.preflight)),
      Effect.withSpan("AutoStore.preflight")
    )

    const setAside: CredentialStore["Type"]["setAside"] = Effect.zipWith(
      keyring.setAside.pipe(Effect.catchIf(isKeyringFailure, (error) => Effect.as(fallBack(error), Option.none()))),
      file.setAside,
      (fromKeyring, fromFile) =>
        Option.isSome(fromKeyring) && Option.isSome(fromFile)
          ? Option.some(`${fromKeyring.value} and ${fromFile.value}`)
          : Option.orElse(fromKeyring, () => fromFile)
    ).pipe(Effect.withSpan("AutoStore.setAside"))

    return {
      get location() {
        return location
      },
      load,
      save,
      keep: file.keep,
      reserve,
      remove,
      locked: file.locked,
      exclusive: file.exclusive,
      preflight,
      setAside
    }
  })

/** An AutoStore layer. */
export const layer = (options: AutoStoreOptions): Layer.Layer<CredentialStore> =>
  Layer.effect(CredentialStore, make(options))
