import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { StoreError } from "../domain/Errors.js"
import { authMethod, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "./CredentialStore.js"
import { IssuerResolver } from "./IssuerResolver.js"
import { type RevokeError, revokeTokens } from "./revokeTokens.js"

/** What a logout reports while it runs, for a terminal or an app to render. */
export type LogoutEvent = Data.TaggedEnum<{
  /** The stored sign-in could not be revoked at its issuer; it is removed anyway. */
  RevokeFailed: { readonly error: RevokeError }
  /**
   * The stored record was unreadable: it was moved to `keptAs` (none: removed, as nothing was there to move), and the
   * record read first was `revoked` or not.
   */
  StoreSetAside: { readonly error: StoreError; readonly keptAs: Option.Option<string>; readonly revoked: boolean }
}>

/** Constructors and matchers for {@link LogoutEvent}. */
export const LogoutEvent = Data.taggedEnum<LogoutEvent>()

/** Options of {@link logout}. */
export interface LogoutOptions {
  /** Told of a failed revocation and of an unreadable record set aside, as each happens. */
  readonly onEvent?: (event: LogoutEvent) => Effect.Effect<void>
  /**
   * When the store holds nothing at all (no record, not even an unreadable one), end at once without taking its locks,
   * whose lock files taking them would create: for a profile nobody signed in to (`--profile typo`). Default false: a
   * logout takes the locks even then, as codex's own logout of auth.json does (and so creates them).
   */
  readonly onlyIfStored?: boolean
}

/** What a logout did. */
export interface LogoutResult {
  /** A sign-in was removed (or an unreadable record set aside); a stored record holding no sign-in does not count. */
  readonly removed: boolean
  /** The sign-in's token was revoked at its issuer. */
  readonly revoked: boolean
  /** Where an unreadable record was moved. */
  readonly keptAside: Option.Option<string>
  /** Why the stored sign-in was not revoked, when a revocation was tried. */
  readonly revokeError: Option.Option<RevokeError>
}

const isSignIn = (auth: StoredAuth) => Option.isSome(authMethod(auth))

const signedIn = (auth: Option.Option<StoredAuth>) => Option.exists(auth, isSignIn)

// best effort: a sign-in whose issuer cannot be reached is removed all the same
const revokeStored = (
  read: Option.Option<StoredAuth>
): Effect.Effect<Either.Either<boolean, RevokeError>, never, IssuerResolver> =>
  Option.match(
    Option.flatMap(Option.filter(read, isSignIn), (record) =>
      Option.map(record.tokens, (tokens) => [record, tokens] as const)
    ),
    {
      onNone: () => Effect.succeed(Either.right(false)),
      onSome: ([record, tokens]) =>
        Effect.flatMap(IssuerResolver, (resolver) => resolver.forSignIn(record.origin)).pipe(
          Effect.flatMap((issuer) => revokeTokens(issuer, tokens)),
          Effect.either
        )
    }
  )

/**
 * Logs out: load and revoke holding the store's `exclusive` lock only (codex waits for its own lock with no timeout,
 * so no request goes out under it), then load again and remove under the store's `locked`. A record another program
 * wrote in between is removed too (a logout is a logout), though only the one read first was revoked. A stored record
 * holding no sign-in (`{}`, an API-key record without a key) is removed but is no sign-in removed; an unreadable one
 * was a sign-in once: it is set aside, never deleted, and that is one. With `onlyIfStored`, an empty store is left
 * alone, no lock taken.
 */
export const logout: (
  options?: LogoutOptions
) => Effect.Effect<LogoutResult, StoreError, CredentialStore | IssuerResolver> = Effect.fn("logout")(function* (
  options: LogoutOptions = {}
) {
  const emit = options.onEvent ?? (() => Effect.void)
  const store = yield* CredentialStore
  // a look without the locks: nothing stored now is a logout that ran before any sign-in made meanwhile; a failure
  // (an unreadable record, an I/O error) is left to the locked path, which sets aside or reports it
  if (
    options.onlyIfStored === true &&
    (yield* Effect.orElseSucceed(Effect.map(store.load, Option.isNone), () => false))
  ) {
    return { removed: false, revoked: false, keptAside: Option.none(), revokeError: Option.none() }
  }
  // our own lock: a refresh of ours in flight ends first, and the refresh token it brought is the one revoked
  return yield* store.exclusive(
    Effect.gen(function* () {
      const read = yield* store.load.pipe(
        Effect.catchIf(
          (error) => error.reason === "Corrupt",
          () => Effect.succeedNone
        )
      )
      const revocation = yield* revokeStored(read)
      if (Either.isLeft(revocation)) yield* emit(LogoutEvent.RevokeFailed({ error: revocation.left }))
      const revoked = Either.getOrElse(revocation, () => false)
      return yield* store.locked(
        Effect.gen(function* () {
          const existing = yield* store.load.pipe(
            Effect.map((auth) => ({ signedIn: signedIn(auth) || signedIn(read), keptAside: Option.none<string>() })),
            Effect.catchIf(
              (error) => error.reason === "Corrupt",
              (error) =>
                Effect.flatMap(store.setAside, (keptAs) =>
                  Effect.as(emit(LogoutEvent.StoreSetAside({ error, keptAs, revoked })), {
                    signedIn: true,
                    keptAside: keptAs
                  })
                )
            )
          )
          const removed = yield* store.remove
          return {
            removed: (removed || Option.isSome(existing.keptAside)) && existing.signedIn,
            revoked,
            keptAside: existing.keptAside,
            revokeError: Either.getLeft(revocation)
          }
        })
      )
    })
  )
})
