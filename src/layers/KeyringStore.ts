import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { createHash } from "node:crypto"
import { StoreError } from "../domain/Errors.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { encodeStoredAuthCompact, parseStoredAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { keyringTimeout } from "../services/schedules.js"
import * as CodexLock from "./CodexLock.js"
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

    const bounded = <A>(call: Effect.Effect<A, StoreError>): Effect.Effect<A, StoreError> =>
      Effect.timeoutFail(call, {
        duration: timeout,
        onTimeout: () =>
          new StoreError({
            reason: "Keyring",
            path: location,
            detail: `no answer within ${Duration.format(timeout)}; is the keyring locked?`
          })
      })

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

    // a keyring write needs no room set aside on disk
    const reserve: CredentialStore["Type"]["reserve"] = () => Effect.succeed({})

    return {
      location,
      load,
      save,
      reserve,
      remove,
      locked: file.locked,
      exclusive: file.exclusive,
      preflight,
      setAside
    }
  })

/** A `CredentialStore` layer in the OS keyring. */
export const layer = (
  options: KeyringStoreOptions
): Layer.Layer<CredentialStore, never, Keyring | FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(options))
