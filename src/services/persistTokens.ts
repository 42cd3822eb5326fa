import { DateTime, Effect, Option } from "effect"
import type { StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { type SignInOrigin, StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { CredentialStore } from "./CredentialStore.js"

/**
 * Stage 5: writes the new sign-in under the store's lock, keeping fields of the old record that codex or others
 * added. An unreadable old record is replaced (the login said so when it started).
 */
export const persistTokens = (
  tokens: TokenSet,
  claims: IdTokenClaims,
  origin: Option.Option<SignInOrigin>
): Effect.Effect<StoredAuth, StoreError, CredentialStore> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    return yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* store.load.pipe(
          Effect.catchIf(
            (error) => error.reason === "Corrupt",
            () => Effect.succeedNone
          )
        )
        const now = yield* DateTime.now
        // codex reads the Codex dialect's record and derives expiry from the JWT; other dialects keep expires_in.
        const codex = Option.match(origin, { onNone: () => true, onSome: (o) => o.dialect === "codex" })
        const record = new StoredAuth({
          authMode: Option.some(codex ? "chatgpt" : "oidc"),
          apiKey: Option.none(),
          tokens: Option.some(
            new StoredTokens({
              idToken: tokens.idToken,
              accessToken: tokens.accessToken,
              refreshToken: tokens.refreshToken,
              accountId: claims.accountId,
              expiresAt: codex ? Option.none() : Option.map(tokens.expiresIn, (ttl) => DateTime.addDuration(now, ttl)),
              extra: []
            })
          ),
          lastRefresh: Option.some(now),
          origin,
          extra: Option.match(previous, { onNone: () => [], onSome: (old) => old.extra })
        })
        yield* store.save(record)
        return record
      })
    )
  }).pipe(Effect.withSpan("persistTokens"))
