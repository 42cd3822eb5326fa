import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { PlatformError } from "@effect/platform/Error"
import { createHash } from "node:crypto"
import { StoreError } from "../domain/Errors.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { encodeStoredAuth, encodeStoredAuthCompact, parseStoredAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { keyringTimeout } from "../services/schedules.js"
import * as CodexLock from "./CodexLock.js"
import { readAuthFile, storeIo } from "./authFile.js"
import * as FileStore from "./FileStore.js"
import { Keyring } from "./Keyring.js"

/** The keyring service codex stores its sign-in under. */
export const KEYRING_SERVICE = "Codex Auth"

/**
 * codex's keyring account for a CODEX_HOME: `cli|` + the first 16 hex characters of SHA-256 of its canonical path.
 * Other profiles append `|<profile>`.
 */
export const keyringAccount = (canonicalCodexHome: string, profile: string = DEFAULT_PROFILE): string => {
  const account = `cli|${createHash("sha256").update(canonicalCodexHome).digest("hex").slice(0, 16)}`
  return profile === DEFAULT_PROFILE ? account : `${account}|${profile}`
}

/** Options of {@link make}. */
export interface KeyringStoreOptions {
  readonly codexHome: string
  readonly profile?: string
  readonly timeout?: Duration.DurationInput
}

/** Steps on the keyring entry alone, for a store that keeps auth.json beside it (see `AutoStore`). */
export interface KeyringEntry {
  /**
   * Deletes the entry alone, holding `auth.json.lock`; true when there was one. auth.json is left as it is. Right
   * after a keyring call that got no answer in time it asks nothing (false): a second wait would only double the delay.
   */
  readonly forget: Effect.Effect<boolean, StoreError>
  /**
   * Moves `auth` from auth.json into the entry in place of `over`, holding `auth.json.lock`: only while auth.json still
   * holds that very record and the entry `over`, the entry is set and then auth.json removed, as a keyring save does;
   * true when it was moved.
   */
  readonly moveIn: (auth: StoredAuth, over: StoredAuth) => Effect.Effect<boolean, StoreError>
}

/** A KeyringStore and the keyring-only steps on its entry. */
export interface KeyringStoreParts {
  readonly store: CredentialStore["Type"]
  readonly entry: KeyringEntry
}

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

/**
 * A `CredentialStore` in the OS keyring, in the entry codex uses (codex-protocol.md §7): the compact JSON of the
 * record. After a save the profile's auth file is removed, as codex does; `remove` deletes both. Every keyring call
 * fails with reason `Keyring` after 3 s. `locked` and `exclusive` are the file store's: `flock(2)` on codex's
 * `auth.lock` in CODEX_HOME (`auth.<profile>.lock` for other profiles), and on devicecode's own `auth.json.refresh.lock`;
 * a keyring write or delete also holds `auth.json.lock`, as codex does.
 * `preflight` reads the entry (a locked or missing keyring fails it) and checks CODEX_HOME as the file store does;
 * `setAside` moves an unreadable entry to the account `<account>|unreadable-<time>`.
 */
export const make = (
  options: KeyringStoreOptions
): Effect.Effect<CredentialStore["Type"], never, Keyring | FileSystem.FileSystem | Path.Path> =>
  Effect.map(makeParts(options), (parts) => parts.store)

/** A KeyringStore as {@link make} builds it, with the keyring-only steps on its entry (same account, lock, time-out). */
export const makeParts = (
  options: KeyringStoreOptions
): Effect.Effect<KeyringStoreParts, never, Keyring | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const keyring = yield* Keyring
    const fs = yield* FileSystem.FileSystem
    const profile = options.profile ?? DEFAULT_PROFILE
    const canonical = yield* fs.realPath(options.codexHome).pipe(Effect.orElseSucceed(() => options.codexHome))
    const account = keyringAccount(canonical, profile)
    const location = `keyring (service "${KEYRING_SERVICE}", account "${account}")`
    const authPath = FileStore.authJsonPath(options.codexHome, profile)
    const file = yield* FileStore.make(authPath)
    // codex 0.169 writes its keyring entry holding both locks (strace: auth.lock, then auth.json.lock, then D-Bus)
    const lock = yield* CodexLock.make(authPath)
    const timeout = Duration.decode(options.timeout ?? keyringTimeout)

    // whether the last keyring call answered (with a result or a failure) before its time-out
    let answering = true
    const bounded = <A>(call: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
      Effect.timeoutFail(
        Effect.onExit(call, (exit) =>
          Exit.isInterrupted(exit)
            ? Effect.void
            : Effect.sync(() => {
                answering = true
              })
        ),
        {
          duration: timeout,
          onTimeout: () => {
            answering = false
            return new StoreError({
              reason: "Keyring",
              path: location,
              detail: `no answer within ${Duration.format(timeout)}; is the keyring locked?`
            })
          }
        }
      )

    const load: CredentialStore["Type"]["load"] = bounded(keyring.get(KEYRING_SERVICE, account)).pipe(
      Effect.flatMap(
        Option.match({
          onNone: () => Effect.succeedNone,
          onSome: (secret) =>
            Either.match(parseStoredAuth(secret), {
              onLeft: (detail) => Effect.fail(new StoreError({ reason: "Corrupt", path: location, detail })),
              onRight: (auth) => Effect.succeed(Option.some(auth))
            })
        })
      ),
      Effect.withSpan("KeyringStore.load")
    )

    const save: CredentialStore["Type"]["save"] = Effect.fn("KeyringStore.save")((auth: StoredAuth) =>
      lock
        .writing(bounded(keyring.set(KEYRING_SERVICE, account, encodeStoredAuthCompact(auth))))
        .pipe(Effect.zipRight(file.remove), Effect.asVoid)
    )

    const remove: CredentialStore["Type"]["remove"] = Effect.zipWith(
      lock.writing(bounded(keyring.remove(KEYRING_SERVICE, account))),
      file.remove,
      (fromKeyring, fromFile) => fromKeyring || fromFile
    ).pipe(Effect.withSpan("KeyringStore.remove"))

    // an unreadable entry is kept under the account `<account>|unreadable-<time>`, as a file is kept beside auth.json
    const setAside: CredentialStore["Type"]["setAside"] = lock
      .writing(
        Effect.gen(function* () {
          const secret = yield* bounded(keyring.get(KEYRING_SERVICE, account))
          if (Option.isNone(secret) || Either.isRight(parseStoredAuth(secret.value))) return Option.none<string>()
          const stamp = DateTime.formatIso(yield* DateTime.now).replace(/:/g, "-")
          const keptAs = `${account}|unreadable-${stamp}`
          yield* bounded(keyring.set(KEYRING_SERVICE, keptAs, secret.value))
          yield* bounded(keyring.remove(KEYRING_SERVICE, account))
          return Option.some(`keyring (service "${KEYRING_SERVICE}", account "${keptAs}")`)
        })
      )
      .pipe(Effect.withSpan("KeyringStore.setAside"))

    // a read answers whether the keyring is there and unlocked; the lock files live beside auth.json
    const preflight: CredentialStore["Type"]["preflight"] = bounded(keyring.get(KEYRING_SERVICE, account)).pipe(
      Effect.zipRight(file.preflight),
      Effect.withSpan("KeyringStore.preflight")
    )

    const forget: KeyringEntry["forget"] = Effect.suspend(() =>
      answering ? lock.writing(bounded(keyring.remove(KEYRING_SERVICE, account))) : Effect.succeed(false)
    ).pipe(Effect.withSpan("KeyringStore.forget"))

    // every writer of auth.json or of the entry (codex or devicecode) holds auth.json.lock, so under it neither read
    // here can change: the records looked at by the caller are still there, or nothing is written
    const moveIn: KeyringEntry["moveIn"] = (auth, over) =>
      lock
        .writing(
          Effect.gen(function* () {
            const inEntry = yield* bounded(keyring.get(KEYRING_SERVICE, account))
            const entryHolds = Option.flatMap(inEntry, (secret) => Either.getRight(parseStoredAuth(secret)))
            if (Option.isNone(entryHolds) || encodeStoredAuth(entryHolds.value) !== encodeStoredAuth(over)) return false
            const current = yield* readAuthFile(authPath)
            if (Option.isNone(current) || Either.isLeft(current.value)) return false
            if (encodeStoredAuth(current.value.right) !== encodeStoredAuth(auth)) return false
            yield* bounded(keyring.set(KEYRING_SERVICE, account, encodeStoredAuthCompact(auth)))
            // unlinked here, not by `file.remove`, which would wait for the auth.json.lock this holds
            yield* fs.remove(authPath).pipe(
              Effect.catchIf(isNotFound, () => Effect.void),
              Effect.mapError(storeIo(authPath))
            )
            return true
          })
        )
        .pipe(Effect.withSpan("KeyringStore.moveIn"))

    // a keyring write needs no room set aside on disk
    const reserve: CredentialStore["Type"]["reserve"] = () => Effect.succeed({})

    return {
      store: {
        location,
        load,
        save,
        keep: file.keep,
        reserve,
        remove,
        locked: file.locked,
        exclusive: file.exclusive,
        preflight,
        setAside
      },
      entry: { forget, moveIn }
    }
  })

/** A `CredentialStore` layer in the OS keyring. */
export const layer = (
  options: KeyringStoreOptions
): Layer.Layer<CredentialStore, never, Keyring | FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(options))
