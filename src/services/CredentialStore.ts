import { Context, Effect, Option } from "effect"
import type { StoreError } from "../domain/Errors.js"
import type { StoredAuth } from "../domain/StoredAuth.js"

/** Loads, saves and deletes the stored sign-in of one profile. */
export class CredentialStore extends Context.Tag("devicecode/CredentialStore")<
  CredentialStore,
  {
    /** Where the sign-in lives, for people: `file /home/me/.codex/auth.json`, `memory`. */
    readonly location: string
    /** The stored sign-in, if any; an unreadable one fails with reason `Corrupt`. */
    readonly load: Effect.Effect<Option.Option<StoredAuth>, StoreError>
    /** Replaces the stored sign-in atomically. */
    readonly save: (auth: StoredAuth) => Effect.Effect<void, StoreError>
    /** Deletes the stored sign-in; true when there was one. */
    readonly remove: Effect.Effect<boolean, StoreError>
    /** Runs `self` holding the store's lock, so no other process interleaves a read-modify-write. */
    readonly locked: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
  }
>() {}
