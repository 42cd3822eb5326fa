import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { StoreError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { authMethod, type ExtraFields, type StoredAuth, type StoredTokens } from "../domain/StoredAuth.js"
import { CredentialStore, loadOrSetAside } from "./CredentialStore.js"
import { IssuerResolver } from "./IssuerResolver.js"
import { type RevocableTokens, revocableToken, revokeTokens } from "./revokeTokens.js"

const chosenToken = (tokens: RevocableTokens) => Option.map(revocableToken(tokens), ([token]) => Redacted.value(token))

/**
 * The tokens of a stored sign-in that a new record replaces and nothing will hold any more: a ChatGPT or RFC 8628
 * sign-in's, when the token a revocation would send (the refresh token, else the access token) is not the new
 * record's. An API-key record holds none.
 */
export const replacedTokens = (
  previous: Option.Option<StoredAuth>,
  next: StoredAuth
): Option.Option<readonly [StoredAuth, StoredTokens]> =>
  Option.flatMap(
    Option.filter(previous, (old) => Option.exists(authMethod(old), (method) => method !== "apikey")),
    (old) =>
      Option.flatMap(old.tokens, (tokens) => {
        const kept = Option.flatMap(next.tokens, chosenToken)
        const replaced = chosenToken(tokens)
        return Option.isSome(replaced) && !Option.contains(kept, replaced.value)
          ? Option.some([old, tokens] as const)
          : Option.none()
      })
  )

/**
 * Revokes the tokens a save replaced (see {@link replacedTokens}) at the issuer of the replaced sign-in's origin, as
 * codex does at a re-login: after the save and outside the store's lock (codex waits on it with no timeout), best
 * effort and bounded by `revokeBound`, told to `onEvent` as `ReplacedRevoked`.
 */
export const revokeReplaced = (
  previous: Option.Option<StoredAuth>,
  next: StoredAuth,
  onEvent: (event: LoginEvent) => Effect.Effect<void>
): Effect.Effect<void, never, IssuerResolver> =>
  Option.match(replacedTokens(previous, next), {
    onNone: () => Effect.void,
    onSome: ([old, tokens]) =>
      Effect.flatMap(IssuerResolver, (resolver) => resolver.forSignIn(old.origin)).pipe(
        Effect.flatMap((client) => revokeTokens(client, tokens)),
        Effect.orElseSucceed(() => false),
        Effect.flatMap((revoked) => onEvent(LoginEvent.ReplacedRevoked({ revoked }))),
        Effect.withSpan("revokeReplaced")
      )
  })

/**
 * Saves the record `build` makes over the stored sign-in, as a login or an API-key login does: under the store's lock
 * an unreadable old record is set aside (told as `StoreSetAside`), and the fields codex or others added to the old
 * record are handed to `build` to keep. Then, outside the lock (codex waits on it with no timeout), the sign-in it
 * replaced is revoked ({@link revokeReplaced}) when an `IssuerResolver` is in context; without one nothing is sent.
 */
export const replaceSignIn = <E, R>(
  build: (extra: ExtraFields) => Effect.Effect<StoredAuth, E, R>,
  onEvent: (event: LoginEvent) => Effect.Effect<void>
): Effect.Effect<StoredAuth, E | StoreError, R | CredentialStore> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    const [previous, record] = yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* loadOrSetAside(store, (_, keptAs) =>
          Option.match(keptAs, {
            onNone: () => Effect.void,
            onSome: (keptAs) => onEvent(LoginEvent.StoreSetAside({ keptAs }))
          })
        )
        const record = yield* build(Option.match(previous, { onNone: () => [], onSome: (old) => old.extra }))
        yield* store.save(record)
        return [previous, record] as const
      })
    )
    const resolver = yield* Effect.serviceOption(IssuerResolver)
    if (Option.isSome(resolver)) {
      yield* revokeReplaced(previous, record, onEvent).pipe(Effect.provideService(IssuerResolver, resolver.value))
    }
    return record
  }).pipe(Effect.withSpan("replaceSignIn"))
