import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { authMethod, StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { CredentialStore, loadOrSetAside } from "./CredentialStore.js"
import { IssuerResolver } from "./IssuerResolver.js"
import { LoginFlow } from "./LoginFlow.js"
import { type RevocableTokens, revocableToken, revokeTokens } from "./revokeTokens.js"
import { newLoginOwnerId, refreshInstant } from "./stamps.js"

/** Options of {@link persistTokens}. */
export interface PersistOptions {
  /** Told where an unreadable old record was moved (`StoreSetAside`), and whether the replaced one was revoked. */
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

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
 * Stage 5: writes the new sign-in under the store's lock, keeping fields of the old record that codex or others
 * added. An unreadable old record is moved aside, not deleted (the login said it would be replaced when it started,
 * and says where it went now). The record's shape (auth mode, origin, stored expiry) is the dialect's call. Then,
 * outside the lock, the tokens of the sign-in it replaced are revoked (see {@link revokeReplaced}).
 */
export const persistTokens: (
  tokens: TokenSet,
  claims: IdTokenClaims,
  options?: PersistOptions
) => Effect.Effect<StoredAuth, StoreError, CredentialStore | LoginFlow | IssuerResolver> = Effect.fn("persistTokens")(
  function* (tokens: TokenSet, claims: IdTokenClaims, options: PersistOptions = {}) {
    const store = yield* CredentialStore
    const flow = yield* LoginFlow
    const emit = options.onEvent ?? (() => Effect.void)
    const [previous, record] = yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* loadOrSetAside(store, (_, keptAs) =>
          Option.match(keptAs, {
            onNone: () => Effect.void,
            onSome: (keptAs) => emit(LoginEvent.StoreSetAside({ keptAs }))
          })
        )
        const { at: now, nanos } = yield* refreshInstant
        const record = new StoredAuth({
          authMode: Option.some(flow.authMode),
          apiKey: Option.none(),
          tokens: Option.some(
            new StoredTokens({
              idToken: tokens.idToken,
              accessToken: tokens.accessToken,
              refreshToken: tokens.refreshToken,
              // new at every login, kept by every refresh (codex-protocol.md §7)
              loginOwnerId: Option.some(yield* newLoginOwnerId),
              accountId: claims.accountId,
              expiresAt: flow.storedExpiry(tokens.expiresIn, now),
              extra: []
            })
          ),
          lastRefresh: Option.some(now),
          lastRefreshNanos: nanos,
          origin: flow.origin,
          extra: Option.match(previous, { onNone: () => [], onSome: (old) => old.extra })
        })
        yield* store.save(record)
        return [previous, record] as const
      })
    )
    yield* revokeReplaced(previous, record, emit)
    return record
  }
)
