import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { StoreError } from "../domain/Errors.js"

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
