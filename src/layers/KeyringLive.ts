import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { StoreError } from "../domain/Errors.js"
import { Keyring } from "../services/Keyring.js"

type NativeKeyring = typeof import("@napi-rs/keyring")

const where = (service: string, account: string) => `keyring entry "${service}" / "${account}"`

const failure = (service: string, account: string) => (error: unknown) =>
  new StoreError({
    reason: "Keyring",
    path: where(service, account),
    detail: error instanceof Error ? error.message : String(error)
  })

/**
 * The OS keyring through @napi-rs/keyring (macOS Keychain, Windows Credential Manager, the Secret Service on Linux —
 * pinned there, never the kernel keyring). The native module is loaded on first use, so commands that do not touch
 * the keyring never load it.
 */
export const make: Effect.Effect<Keyring["Type"]> = Effect.gen(function* () {
  const native = yield* Effect.cached(
    Effect.tryPromise({ try: (): Promise<NativeKeyring> => import("@napi-rs/keyring"), catch: (error) => error })
  )
  // The entry constructor itself throws when no D-Bus session is reachable; every call goes through here.
  const call = <A>(
    service: string,
    account: string,
    use: (entry: InstanceType<NativeKeyring["AsyncEntry"]>, signal: AbortSignal) => Promise<A>
  ): Effect.Effect<A, StoreError> =>
    native.pipe(
      Effect.flatMap(({ AsyncEntry }) =>
        Effect.tryPromise({
          try: (signal) => use(new AsyncEntry(service, account, { linux: { store: "secret-service" } }), signal),
          catch: (error) => error
        })
      ),
      Effect.mapError(failure(service, account))
    )
  return {
    get: (service, account) =>
      call(service, account, (entry, signal) => entry.getPassword(signal)).pipe(Effect.map(Option.fromNullable)),
    set: (service, account, secret) => call(service, account, (entry, signal) => entry.setPassword(secret, signal)),
    remove: (service, account) => call(service, account, (entry, signal) => entry.deletePassword(signal))
  }
})

/** The OS keyring as a layer. */
export const layer: Layer.Layer<Keyring> = Layer.effect(Keyring, make)
