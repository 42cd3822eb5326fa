import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Arr from "effect/Array"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { nodeCrypto } from "../domain/nodeCrypto.js"
import { StoreError } from "../domain/Errors.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { encodeStoredAuth, encodeStoredAuthCompact, parseStoredAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { keyringTimeout } from "../services/lockSchedules.js"
import * as CodexLock from "./CodexLock.js"
import { isNotFound, parseAuthText, readAuthFile, storeIo, tempFilePrefix } from "./authFile.js"
import * as FileStore from "./FileStore.js"
import { Keyring } from "./Keyring.js"
import { readRegularFile } from "./localFile.js"

/** The keyring service codex stores its sign-in under. */
export const KEYRING_SERVICE = "Codex Auth"

/**
 * codex's keyring account for a CODEX_HOME: `cli|` + the first 16 hex characters of SHA-256 of its canonical path.
 * Other profiles append `|<profile>`.
 */
export const keyringAccount = (canonicalCodexHome: string, profile: string = DEFAULT_PROFILE): string => {
  const account = `cli|${nodeCrypto().createHash("sha256").update(canonicalCodexHome).digest("hex").slice(0, 16)}`
  return profile === DEFAULT_PROFILE ? account : `${account}|${profile}`
}

/** Options of {@link make}. */
export interface KeyringStoreOptions {
  readonly codexHome: string
  readonly profile?: string
  readonly timeout?: Duration.DurationInput
}

/**
 * Whether the record in a keyring entry, `inEntry`, is the sign-in rather than `beside`, one written beside the entry
 * (auth.json, a record kept there): a keyring save removes the auth file (codex's too), so a record beside an entry was
 * written after it, by a save that fell back, a file-mode codex or a save that could not reach the keyring. The entry
 * wins only when both carry a last_refresh and its is later: an API-key record has none, and must not lose to the
 * older ChatGPT sign-in it replaced.
 */
export const entryIsNewer = (inEntry: Option.Option<StoredAuth>, beside: StoredAuth): boolean =>
  Option.isSome(inEntry) &&
  Option.isSome(inEntry.value.lastRefresh) &&
  Option.isSome(beside.lastRefresh) &&
  DateTime.greaterThan(inEntry.value.lastRefresh.value, beside.lastRefresh.value)

/** Steps on the keyring entry alone, for a store that keeps auth.json beside it (see `AutoStore`). */
export interface KeyringEntry {
  /** The entry's record, read alone: no record kept beside it is looked at or adopted (see `make`). */
  readonly load: Effect.Effect<Option.Option<StoredAuth>, StoreError>
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

/** A temp file beside the entry: when it was written and the record it holds (none: it does not parse). */
interface Kept {
  readonly file: string
  readonly mtime: number
  readonly auth: Option.Option<StoredAuth>
}

const isKeyringFailure = (error: StoreError): boolean => error.reason === "Keyring"

/**
 * A `CredentialStore` in the OS keyring, in the entry codex uses (codex-protocol.md §7): the compact JSON of the
 * record. After a save the profile's auth file is removed, as codex does; `remove` deletes both. Every keyring call
 * fails with reason `Keyring` after 3 s. `locked` and `exclusive` are the file store's: `flock(2)` on codex's
 * `auth.lock` in CODEX_HOME (`auth.<profile>.lock` for other profiles), and on devicecode's own `auth.json.refresh.lock`;
 * a keyring write or delete also holds `auth.json.lock`, as codex does.
 * `preflight` reads the entry (a locked or missing keyring fails it) and checks CODEX_HOME as the file store does;
 * `reserve`, before a refresh is sent, writes the entry's own text back to it (a write-probe: a keyring that will not
 * take a write fails the refresh before its request spends the refresh token);
 * `setAside` moves an unreadable entry to the account `<account>|unreadable-<time>`.
 *
 * An issuer's answer that the keyring would not take (or whose save waited for a lock in vain) is kept by `keep` as a
 * save's temp file beside auth.json, `.auth.json.tmp-<random>` (whole, mode 0600, auth.json's format; a file store
 * would adopt it as auth.json). `load` looks in the directory for one (its only cost when there is none) and, holding
 * `auth.json.lock`, takes the newest: unless the entry was refreshed later (see {@link entryIsNewer}) it is set as the
 * entry and then removed with any older one, and returned; while the keyring still fails it is returned as it is and
 * left for a later command. auth.json itself is not read: a file-mode codex may be using it.
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
    const path = yield* Path.Path
    const profile = options.profile ?? DEFAULT_PROFILE
    const canonical = yield* fs.realPath(options.codexHome).pipe(Effect.orElseSucceed(() => options.codexHome))
    const account = keyringAccount(canonical, profile)
    const location = `keyring (service "${KEYRING_SERVICE}", account "${account}")`
    const authPath = FileStore.authJsonPath(options.codexHome, profile)
    const file = yield* FileStore.make(authPath)
    const dir = path.dirname(authPath)
    const keptPrefix = tempFilePrefix(authPath)
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

    const readEntry: KeyringEntry["load"] = bounded(keyring.get(KEYRING_SERVICE, account)).pipe(
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
      Effect.withSpan("KeyringStore.readEntry")
    )

    // `keep` writes its record as a save's temp file beside auth.json (FileStore's), whole and 0600; a directory that
    // cannot be listed hides none worth failing a read for
    const keptFiles = fs.readDirectory(dir).pipe(
      Effect.map((names) => names.filter((name) => name.startsWith(keptPrefix)).map((name) => path.join(dir, name))),
      Effect.orElseSucceed((): ReadonlyArray<string> => [])
    )

    // one that cannot be read (a link, no permission) is left alone
    const readKept = (file: string): Effect.Effect<Option.Option<Kept>> =>
      readRegularFile(file, { follow: false }).pipe(
        Effect.map(
          Option.map((read) => ({ file, mtime: read.mtimeMs, auth: Either.getRight(parseAuthText(read.text)) }))
        ),
        Effect.orElseSucceed(() => Option.none())
      )

    const removeFiles = (kept: ReadonlyArray<{ readonly file: string }>) =>
      Effect.forEach(
        kept,
        ({ file }) =>
          fs.remove(file).pipe(
            Effect.catchIf(isNotFound, () => Effect.void),
            Effect.mapError(storeIo(file))
          ),
        { discard: true }
      )

    /**
     * Inside `auth.json.lock`, which every writer of a temp file holds but `keep`, which writes its file whole: a temp
     * file that does not parse was left by a killed writer and goes. The newest kept record, unless the entry was
     * refreshed after it, is set as the entry and then removed with the older ones; while the keyring fails it is
     * returned and left in place for a later command.
     */
    const adoptKept = Effect.gen(function* () {
      const found = Arr.getSomes(yield* Effect.forEach(yield* keptFiles, readKept))
      yield* removeFiles(found.filter((kept) => Option.isNone(kept.auth)))
      const [newest, ...older] = found
        .flatMap(({ auth, file, mtime }) => (Option.isSome(auth) ? [{ file, mtime, auth: auth.value }] : []))
        .sort((a, b) => b.mtime - a.mtime)
      if (newest === undefined) return yield* readEntry
      const leftInPlace = (error: StoreError) =>
        Effect.as(
          Effect.logDebug(`the record kept in ${newest.file} stays there until the keyring works: ${error.message}`),
          Option.some(newest.auth)
        )
      return yield* readEntry.pipe(
        Effect.flatMap((inEntry) =>
          entryIsNewer(inEntry, newest.auth)
            ? // refreshed after they were kept: what they hold is spent
              Effect.as(removeFiles([newest, ...older]), inEntry)
            : bounded(keyring.set(KEYRING_SERVICE, account, encodeStoredAuthCompact(newest.auth))).pipe(
                Effect.zipRight(removeFiles([newest, ...older])),
                Effect.zipRight(Effect.logDebug(`moved the record kept in ${newest.file} into the keyring`)),
                Effect.as(Option.some(newest.auth))
              )
        ),
        Effect.catchIf(isKeyringFailure, leftInPlace)
      )
    })

    // One look at the directory: a kept record is rare, and its adoption takes the lock.
    const load: CredentialStore["Type"]["load"] = Effect.flatMap(keptFiles, (files) =>
      files.length === 0 ? readEntry : lock.writing(adoptKept)
    ).pipe(Effect.withSpan("KeyringStore.load"))

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

    // A write-probe before a refresh is sent: the entry's own text set again, under auth.json.lock (no writer comes
    // between the read and the write), so a keyring that is locked, gone or read-only fails here, before the request
    // spends the refresh token. A keyring write needs no room set aside on disk.
    const reserve: CredentialStore["Type"]["reserve"] = () =>
      lock
        .writing(
          Effect.flatMap(
            bounded(keyring.get(KEYRING_SERVICE, account)),
            Option.match({
              onNone: () => Effect.void,
              onSome: (secret) => bounded(keyring.set(KEYRING_SERVICE, account, secret))
            })
          )
        )
        .pipe(Effect.as({}), Effect.withSpan("KeyringStore.reserve"))

    return {
      store: {
        location,
        load,
        save,
        // as a save's temp file beside auth.json, which `load` adopts into the keyring (and a file store into auth.json)
        keep: file.keep,
        reserve,
        remove,
        locked: file.locked,
        exclusive: file.exclusive,
        preflight,
        setAside
      },
      entry: { load: readEntry, forget, moveIn }
    }
  })

/** A `CredentialStore` layer in the OS keyring. */
export const layer = (
  options: KeyringStoreOptions
): Layer.Layer<CredentialStore, never, Keyring | FileSystem.FileSystem | Path.Path> =>
  Layer.effect(CredentialStore, make(options))
