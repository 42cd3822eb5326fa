import { DateTime, Effect, Option } from "effect"
import type { StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { CredentialStore } from "./CredentialStore.js"
import { DeviceAuthorization } from "./DeviceAuthorization.js"

/**
 * Stage 5: writes the new sign-in under the store's lock, keeping fields of the old record that codex or others
 * added. An unreadable old record is replaced (the login said so when it started). The record's shape (auth mode,
 * origin, stored expiry) is the dialect's call.
 */
export const persistTokens = (
  tokens: TokenSet,
  claims: IdTokenClaims
): Effect.Effect<StoredAuth, StoreError, CredentialStore | DeviceAuthorization> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    const auth = yield* DeviceAuthorization
    return yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* store.load.pipe(
          Effect.catchIf(
            (error) => error.reason === "Corrupt",
            () => Effect.succeedNone
          )
        )
        const now = yield* DateTime.now
        const record = new StoredAuth({
          authMode: Option.some(auth.authMode),
          apiKey: Option.none(),
          tokens: Option.some(
            new StoredTokens({
              idToken: tokens.idToken,
              accessToken: tokens.accessToken,
              refreshToken: tokens.refreshToken,
              accountId: claims.accountId,
              expiresAt: auth.storedExpiry(tokens.expiresIn, now),
              extra: []
            })
          ),
          lastRefresh: Option.some(now),
          origin: auth.origin,
          extra: Option.match(previous, { onNone: () => [], onSome: (old) => old.extra })
        })
        yield* store.save(record)
        return record
      })
    )
  }).pipe(Effect.withSpan("persistTokens"))
