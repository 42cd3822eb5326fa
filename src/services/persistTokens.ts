import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { CredentialStore, loadOrSetAside } from "./CredentialStore.js"
import { LoginFlow } from "./LoginFlow.js"
import { newLoginOwnerId, refreshInstant } from "./stamps.js"

/** Options of {@link persistTokens}. */
export interface PersistOptions {
  /** Told where an unreadable old record was moved (`StoreSetAside`). */
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

/**
 * Stage 5: writes the new sign-in under the store's lock, keeping fields of the old record that codex or others
 * added. An unreadable old record is moved aside, not deleted (the login said it would be replaced when it started,
 * and says where it went now). The record's shape (auth mode, origin, stored expiry) is the dialect's call.
 */
export const persistTokens: (
  tokens: TokenSet,
  claims: IdTokenClaims,
  options?: PersistOptions
) => Effect.Effect<StoredAuth, StoreError, CredentialStore | LoginFlow> = Effect.fn("persistTokens")(function* (
  tokens: TokenSet,
  claims: IdTokenClaims,
  options: PersistOptions = {}
) {
  const store = yield* CredentialStore
  const flow = yield* LoginFlow
  const emit = options.onEvent ?? (() => Effect.void)
  return yield* store.locked(
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
      return record
    })
  )
})
