import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { StoreError } from "../domain/Errors.js"

/** The OS keyring: secrets by service and account. Every failure is a StoreError with reason `Keyring`. */
export class Keyring extends Context.Tag("devicecode/Keyring")<
  Keyring,
  {
    readonly get: (service: string, account: string) => Effect.Effect<Option.Option<string>, StoreError>
    readonly set: (service: string, account: string, secret: string) => Effect.Effect<void, StoreError>
    /** True when there was a secret to delete. */
    readonly remove: (service: string, account: string) => Effect.Effect<boolean, StoreError>
  }
>() {}

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
  const options = { linux: { store: "secret-service" } } as const
  // The entry constructor itself throws when no D-Bus session is reachable; every call goes through here. `entry`
  // finds an item by service and account alone, whatever other attributes it has; `created` makes a new one.
  const call = <A>(
    service: string,
    account: string,
    use: (
      entries: {
        readonly entry: InstanceType<NativeKeyring["AsyncEntry"]>
        readonly created: () => InstanceType<NativeKeyring["AsyncEntry"]>
      },
      signal: AbortSignal
    ) => Promise<A>
  ): Effect.Effect<A, StoreError> =>
    native.pipe(
      Effect.flatMap(({ AsyncEntry }) =>
        Effect.tryPromise({
          try: (signal) =>
            use(
              {
                entry: new AsyncEntry(service, account, options),
                // codex's Secret Service items carry `target = default` (the Rust keyring crate's default); a new
                // item of ours does too, so the two match. Elsewhere the target names the credential: leave it out.
                created: () =>
                  process.platform === "linux"
                    ? AsyncEntry.withTarget("default", service, account, options)
                    : new AsyncEntry(service, account, options)
              },
              signal
            ),
          catch: (error) => error
        })
      ),
      Effect.mapError(failure(service, account))
    )
  return Keyring.of({
    get: Effect.fn("Keyring.get")((service: string, account: string) =>
      call(service, account, ({ entry }, signal) => entry.getPassword(signal)).pipe(Effect.map(Option.fromNullable))
    ),
    // an existing item (codex's, or one of ours) is updated in place, so there is never a second one to be ambiguous
    set: Effect.fn("Keyring.set")((service: string, account: string, secret: string) =>
      call(service, account, async ({ created, entry }, signal) =>
        (await entry.getPassword(signal)) === null
          ? created().setPassword(secret, signal)
          : entry.setPassword(secret, signal)
      )
    ),
    remove: Effect.fn("Keyring.remove")((service: string, account: string) =>
      call(service, account, ({ entry }, signal) => entry.deletePassword(signal))
    )
  })
})

/** The OS keyring as a layer. */
export const layer: Layer.Layer<Keyring> = Layer.effect(Keyring, make)
