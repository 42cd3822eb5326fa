import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import type { StoreError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { LoginEvent } from "../domain/LoginEvent.js"
import { StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import type { CredentialStore } from "./CredentialStore.js"
import { LoginFlow } from "./LoginFlow.js"
import { replaceSignIn } from "./replaceSignIn.js"
import { newLoginOwnerId, refreshInstant } from "./stamps.js"

/** Options of {@link persistTokens}. */
export interface PersistOptions {
  /** Told where an unreadable old record was moved (`StoreSetAside`), and whether the replaced one was revoked. */
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
  /** Stored as `OPENAI_API_KEY` beside the tokens (codex's browser login: the key its token exchange gave). */
  readonly apiKey?: Option.Option<Redacted.Redacted<string>>
}

/**
 * The record of a new sign-in with `tokens`, keeping `extra` (the fields codex or others added to the record it
 * replaces), and `apiKey` as `OPENAI_API_KEY` (none: null). Its shape (auth mode, origin, stored expiry) is the
 * dialect's call.
 */
export const signInRecord = (
  tokens: TokenSet,
  claims: IdTokenClaims,
  extra: StoredAuth["extra"],
  apiKey: Option.Option<Redacted.Redacted<string>> = Option.none()
): Effect.Effect<StoredAuth, never, LoginFlow> =>
  Effect.gen(function* () {
    const flow = yield* LoginFlow
    const { at: now, nanos } = yield* refreshInstant
    return new StoredAuth({
      authMode: Option.some(flow.authMode),
      apiKey,
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
      extra
    })
  })

/**
 * Stage 5: writes the new sign-in under the store's lock, keeping fields of the old record that codex or others
 * added. An unreadable old record is moved aside, not deleted (the login said it would be replaced when it started,
 * and says where it went now). Then, outside the lock, the tokens of the sign-in it replaced are revoked (see
 * {@link replaceSignIn}).
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
  return yield* replaceSignIn(
    (extra) => signInRecord(tokens, claims, extra, options.apiKey),
    options.onEvent ?? (() => Effect.void)
  )
})
