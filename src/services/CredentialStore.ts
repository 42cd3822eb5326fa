import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import { globalValue } from "effect/GlobalValue"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { StoreError } from "../domain/Errors.js"
import type { StoredAuth } from "../domain/StoredAuth.js"

/** How a record is saved. */
export interface SaveOptions {
  /** The room `reserve` set aside before the request: a file store writes the record there, needing no new space. */
  readonly into?: Reservation
}

/** Room a store set aside for a save (see `reserve`); a store that needs none gives an empty one. */
export interface Reservation {
  /** A file store's reserved file. */
  readonly file?: string
}

/** Loads, saves and deletes the stored sign-in of one profile. */
export class CredentialStore extends Context.Tag("devicecode/CredentialStore")<
  CredentialStore,
  {
    /** Where the sign-in lives, for people: `file /home/me/.codex/auth.json`, `memory`. */
    readonly location: string
    /**
     * The stored sign-in, if any; an unreadable one fails with reason `Corrupt`. A file store first recovers a write
     * that a killed process left behind (see `FileStore`).
     */
    readonly load: Effect.Effect<Option.Option<StoredAuth>, StoreError>
    /** Replaces the stored sign-in atomically. An unreadable one is kept aside (see `setAside`), not overwritten. */
    readonly save: (auth: StoredAuth, options?: SaveOptions) => Effect.Effect<void, StoreError>
    /**
     * Keeps `auth`, an issuer's answer that exists nowhere else (a rotated refresh token, a login's new tokens) and that
     * `save` could not take (a lock stayed taken, the keyring failed), as a recovery record beside the store: mode
     * 0600, in auth.json's format, written whole without any lock. The next `load` adopts it and moves it into place.
     * Returns where it went, or none when the store has no place for one (memory).
     */
    readonly keep: (auth: StoredAuth) => Effect.Effect<Option.Option<string>, StoreError>
    /**
     * Sets aside, for the scope, what a save of a record like `like` needs, before a request whose answer must be
     * saved (a refresh): a file store writes a file that large beside the store, so a full disk fails here, before the
     * request is sent and spends the refresh token, not after. The save is given it as `into`.
     */
    readonly reserve: (like: StoredAuth) => Effect.Effect<Reservation, StoreError, Scope.Scope>
    /** Deletes the stored sign-in; true when there was one. An unreadable one is kept aside, not deleted. */
    readonly remove: Effect.Effect<boolean, StoreError>
    /**
     * Runs `self` holding the store's write lock (a file store's: codex's `auth.lock`), so no other process — codex
     * included — interleaves a read-modify-write. Only a re-read and a write go here, never a network call: codex waits
     * for this lock with no timeout.
     */
    readonly locked: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
    /**
     * Runs `self` holding devicecode's own lock on the store (a file store's: `auth.json.refresh.lock`, which codex
     * does not take), held across a refresh or revoke request so that devicecode's processes send one at a time. It
     * does not hold `locked`: take `locked` inside it for the write, never the other way round.
     */
    readonly exclusive: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | StoreError, R>
    /**
     * Checks, writing nothing that stays, that a sign-in could be saved here now: a login runs it before it asks for a
     * code, so that nobody approves a sign-in that cannot be kept.
     */
    readonly preflight: Effect.Effect<void, StoreError>
    /**
     * Moves an unreadable stored sign-in out of the way, kept for a person to look at (a file becomes
     * `auth.json.unreadable-<time>`, mode 0600); returns where it went, or none when nothing unreadable was stored.
     */
    readonly setAside: Effect.Effect<Option.Option<string>, StoreError>
  }
>() {}

/**
 * The stored sign-in, for a change that replaces or removes it: an unreadable one is moved aside (`setAside`), told to
 * `onUnreadable` with where it went, and reads as none. Run it under the store's lock, before the save or remove.
 */
export const loadOrSetAside = (
  store: CredentialStore["Type"],
  onUnreadable: (error: StoreError, keptAs: Option.Option<string>) => Effect.Effect<void>
): Effect.Effect<Option.Option<StoredAuth>, StoreError> =>
  store.load.pipe(
    Effect.catchIf(
      (error) => error.reason === "Corrupt",
      (error) =>
        store.setAside.pipe(
          Effect.flatMap((keptAs) => onUnreadable(error, keptAs)),
          Effect.as(Option.none())
        )
    )
  )

/**
 * When set (epoch milliseconds), a store's waits for its locks end by then, failing with reason `Locked` as at their own
 * bounds: a session sets it for the save of a refresh answer it went on waiting for after an interruption, so that the
 * command still ends soon after the signal, keeping the answer (`keep`) if the locks stay taken.
 */
export const lockDeadline: FiberRef.FiberRef<Option.Option<number>> = globalValue(
  Symbol.for("devicecode/CredentialStore/lockDeadline"),
  () => FiberRef.unsafeMake(Option.none<number>())
)

/**
 * Keeps `auth` after `error`, the failure of its save (see `keep`): fails with `error` and where the record went
 * (`keptIn`); when the store has no place for it or keeping fails too, with `error` as it was.
 */
export const keepAfter = (
  store: CredentialStore["Type"],
  auth: StoredAuth,
  error: StoreError
): Effect.Effect<never, StoreError> =>
  store.keep(auth).pipe(
    Effect.orElseSucceed(() => Option.none<string>()),
    Effect.flatMap((kept) =>
      Option.match(kept, {
        onNone: () => Effect.fail(error),
        onSome: (keptIn) => {
          const { afterApproval: _, detail, path, reason } = error
          return Effect.fail(new StoreError({ reason, path, detail, keptIn }))
        }
      })
    )
  )
