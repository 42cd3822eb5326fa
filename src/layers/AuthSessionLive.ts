import { Cause, Clock, DateTime, Duration, Effect, Either, Layer, Option, Redacted, Ref } from "effect"
import { CODEX_DEFAULT_ISSUER } from "../domain/CodexWire.js"
import { type DeviceAuthError, NotLoggedIn, RefreshError } from "../domain/Errors.js"
import { emptyClaims, type IdTokenClaims, jwtExpiry, parseIdTokenClaims } from "../domain/IdTokenClaims.js"
import { authMethod, StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import { AuthSession, type AuthSessionError, type SessionAccount } from "../services/AuthSession.js"
import { CredentialStore } from "../services/CredentialStore.js"
import type { RefreshedTokens } from "../services/DeviceAuthorization.js"
import { IssuerResolver } from "../services/IssuerResolver.js"

/** How early a session refreshes. */
export interface AuthSessionOptions {
  /** Refresh this long before the access token expires (at most half its lifetime); default 60 s. */
  readonly skew?: Duration.DurationInput
  /** Refresh a token without an expiry once `last_refresh` is this old; default 8 days (codex's rule). */
  readonly maxAge?: Duration.DurationInput
}

/** The token handed out and when to stop handing it out, computed once per record so the fast path only compares. */
interface Cached {
  readonly record: StoredAuth
  readonly token: Redacted.Redacted<string>
  readonly served: Effect.Effect<Redacted.Redacted<string>>
  /** Before this, the fast path serves `token`; a backoff after a transient failure moves it later. */
  readonly refreshAtMillis: number
  /** From this on, `token` is never served. */
  readonly expiresAtMillis: number
  /** Transient refresh failures in a row, for the backoff. */
  readonly failures: number
  /** The last refresh failure: a RefreshError is permanent for `record`'s refresh token. */
  readonly error: RefreshError | DeviceAuthError | undefined
}

/** What one locked refresh attempt came to. */
type Attempt =
  | { readonly _tag: "Fresh"; readonly cached: Cached }
  | { readonly _tag: "Permanent"; readonly record: StoredAuth; readonly error: RefreshError }
  | { readonly _tag: "Transient"; readonly record: StoredAuth; readonly error: DeviceAuthError }

const BACKOFF_BASE = Duration.toMillis(Duration.seconds(1))
const BACKOFF_CAP = Duration.toMillis(Duration.minutes(5))
/** Retries inside one call when the token has expired: after 1 s, 2 s and 4 s. */
const EXPIRED_RETRIES = 3

const backoffMillis = (failures: number): number => Math.min(BACKOFF_BASE * 2 ** Math.max(0, failures - 1), BACKOFF_CAP)

const dialectOf = (record: StoredAuth): "codex" | "rfc8628" =>
  Option.match(record.origin, {
    onNone: () => (Option.getOrUndefined(authMethod(record)) === "oidc" ? "rfc8628" : "codex"),
    onSome: (origin) => origin.dialect
  })

const issuerOf = (record: StoredAuth): string =>
  Option.match(record.origin, { onNone: () => CODEX_DEFAULT_ISSUER, onSome: (origin) => origin.issuer })

const reveal = (secret: Option.Option<Redacted.Redacted<string>>): string | undefined =>
  Option.getOrUndefined(Option.map(secret, Redacted.value))

/** Whether two records hold the same credentials (access and refresh token, or API key). */
const sameCredentials = (a: StoredAuth, b: StoredAuth): boolean => {
  const ta = Option.getOrUndefined(a.tokens)
  const tb = Option.getOrUndefined(b.tokens)
  if (ta === undefined || tb === undefined) return ta === tb && reveal(a.apiKey) === reveal(b.apiKey)
  return (
    Redacted.value(ta.accessToken) === Redacted.value(tb.accessToken) &&
    reveal(ta.refreshToken) === reveal(tb.refreshToken)
  )
}

const refreshTokenOf = (record: StoredAuth): string | undefined =>
  reveal(Option.flatMap(record.tokens, (tokens) => tokens.refreshToken))

const claimsOf = (record: StoredAuth): IdTokenClaims =>
  Option.match(
    Option.flatMap(record.tokens, (tokens) => tokens.idToken),
    {
      onNone: () => emptyClaims,
      onSome: (idToken) => Either.getOrElse(parseIdTokenClaims(idToken), () => emptyClaims)
    }
  )

/**
 * A permanent refresh failure (codex-protocol.md §8): any 401, and for RFC 8628 a 400 `invalid_grant` (RFC 6749
 * §5.2). Everything else — network, 429/5xx, other statuses, unreadable answers — is transient.
 */
const permanentReason = (error: DeviceAuthError, dialect: "codex" | "rfc8628"): RefreshError["reason"] | undefined => {
  if (error.reason === "Unavailable") return undefined
  switch (error.code) {
    case "refresh_token_expired":
      if (error.status === 401) return "Expired"
      break
    case "refresh_token_reused":
      if (error.status === 401) return "Reused"
      break
    case "refresh_token_invalidated":
      if (error.status === 401) return "Invalidated"
      break
    case "invalid_grant":
      if (dialect === "rfc8628" && (error.status === 400 || error.status === 401)) {
        const description = (error.detail ?? "").toLowerCase()
        if (/expired/.test(description)) return "Expired"
        if (/already (been )?used|reuse/.test(description)) return "Reused"
        if (/revoked|invalidated/.test(description)) return "Invalidated"
        return "Other"
      }
      break
  }
  return error.status === 401 ? "Other" : undefined
}

/**
 * Makes an {@link AuthSession} over the store and the issuer of the stored sign-in. Tokens are served from memory
 * until shortly before they expire; one refresh runs at a time in the process (a semaphore) and across processes
 * (the store's lock), and a refresh another process already made is adopted instead of repeated.
 */
export const make = (
  options: AuthSessionOptions = {}
): Effect.Effect<AuthSession["Type"], never, CredentialStore | IssuerResolver> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    const resolver = yield* IssuerResolver
    const skew = Duration.toMillis(Duration.decode(options.skew ?? Duration.seconds(60)))
    const maxAge = Duration.toMillis(Duration.decode(options.maxAge ?? Duration.days(8)))
    const ref = yield* Ref.make<Cached | undefined>(undefined)
    const semaphore = yield* Effect.makeSemaphore(1)

    const cache = (
      record: StoredAuth,
      token: Redacted.Redacted<string>,
      refreshAtMillis: number,
      expiresAtMillis: number
    ): Cached => ({
      record,
      token,
      served: Effect.succeed(token),
      refreshAtMillis,
      expiresAtMillis,
      failures: 0,
      error: undefined
    })

    // refreshAt = expiry − min(skew, lifetime / 2), so a token living less than the skew is not refreshed on every call
    const fromRecord = (record: StoredAuth): Effect.Effect<Cached, NotLoggedIn> => {
      const method = Option.getOrUndefined(authMethod(record))
      if (method === "apikey") {
        return Option.match(record.apiKey, {
          onNone: () => Effect.fail(new NotLoggedIn()),
          onSome: (key) => Effect.succeed(cache(record, key, Infinity, Infinity))
        })
      }
      if (method === undefined || Option.isNone(record.tokens)) return Effect.fail(new NotLoggedIn())
      const tokens = record.tokens.value
      const expiry = Option.map(
        Option.orElse(tokens.expiresAt, () => jwtExpiry(tokens.accessToken)),
        DateTime.toEpochMillis
      )
      const lastRefresh = Option.map(record.lastRefresh, DateTime.toEpochMillis)
      if (Option.isSome(expiry)) {
        const lifetime = Option.isSome(lastRefresh) ? expiry.value - lastRefresh.value : NaN
        const margin = lifetime > 0 ? Math.min(skew, lifetime / 2) : skew
        return Effect.succeed(cache(record, tokens.accessToken, expiry.value - margin, expiry.value))
      }
      const refreshAt = Option.isSome(lastRefresh) ? lastRefresh.value + maxAge : -Infinity
      return Effect.succeed(cache(record, tokens.accessToken, refreshAt, Infinity))
    }

    const loadRecord = Effect.flatMap(store.load, (stored) =>
      Option.isSome(stored) ? Effect.succeed(stored.value) : Effect.fail(new NotLoggedIn())
    )

    // codex-protocol.md §8: only the tokens present replace the stored ones; every other field is kept.
    const merge = (record: StoredAuth, tokens: StoredTokens, refreshed: RefreshedTokens, now: DateTime.Utc) => {
      const newClaims = Option.map(refreshed.idToken, (idToken) =>
        Either.getOrElse(parseIdTokenClaims(idToken), () => emptyClaims)
      )
      const expiresAt = Option.isNone(refreshed.accessToken)
        ? tokens.expiresAt
        : dialectOf(record) === "codex"
          ? Option.none()
          : Option.map(refreshed.expiresIn, (ttl) => DateTime.addDuration(now, ttl))
      return new StoredAuth({
        ...record,
        tokens: Option.some(
          new StoredTokens({
            ...tokens,
            idToken: Option.orElse(refreshed.idToken, () => tokens.idToken),
            accessToken: Option.getOrElse(refreshed.accessToken, () => tokens.accessToken),
            refreshToken: Option.orElse(refreshed.refreshToken, () => tokens.refreshToken),
            accountId: Option.orElse(
              Option.flatMap(newClaims, (claims) => claims.accountId),
              () => tokens.accountId
            ),
            expiresAt
          })
        ),
        lastRefresh: Option.some(now)
      })
    }

    /**
     * One attempt under the store's lock: re-read the store; adopt tokens another process stored (or that differ from
     * the rejected one) while they are unexpired; otherwise refresh at the sign-in's issuer and save.
     */
    const attempt = (cached: Cached, rejected: string | undefined): Effect.Effect<Attempt, AuthSessionError> =>
      store
        .locked(
          Effect.gen(function* () {
            const record = yield* loadRecord
            const latest = yield* fromRecord(record)
            const now = yield* Clock.currentTimeMillis
            const changed =
              rejected === undefined
                ? !sameCredentials(record, cached.record)
                : Redacted.value(latest.token) !== rejected
            if ((changed && now < latest.expiresAtMillis) || Option.isNone(record.tokens)) {
              return { _tag: "Fresh", cached: latest } as const
            }
            const tokens = record.tokens.value
            const dialect = dialectOf(record)
            if (Option.isNone(tokens.refreshToken)) {
              const error = new RefreshError({ reason: "Other", issuer: issuerOf(record) })
              return { _tag: "Permanent", record, error } as const
            }
            const issuer = yield* resolver.forSignIn(record.origin)
            const refreshToken = tokens.refreshToken.value
            // a rotated refresh token is spent at the issuer once it answers: save it even if the caller goes away
            return yield* Effect.uninterruptible(
              Effect.gen(function* () {
                const answer = yield* Effect.either(issuer.refresh(refreshToken))
                if (Either.isLeft(answer)) {
                  // the error as the issuer made it, not a span-annotated proxy: it is kept and failed with again
                  const error = Cause.originalError(answer.left)
                  const reason = permanentReason(error, dialect)
                  return reason === undefined
                    ? ({ _tag: "Transient", record, error } as const)
                    : ({
                        _tag: "Permanent",
                        record,
                        error: new RefreshError({
                          reason,
                          issuer: issuer.issuer,
                          ...(error.code === undefined ? {} : { code: error.code })
                        })
                      } as const)
                }
                const updated = merge(record, tokens, answer.right, yield* DateTime.now)
                yield* store.save(updated)
                return { _tag: "Fresh", cached: yield* fromRecord(updated) } as const
              })
            )
          })
        )
        .pipe(Effect.withSpan("AuthSession.refresh"))

    // nothing stored any more: the next call loads the store again
    const forget = <A>(self: Effect.Effect<A, AuthSessionError>) =>
      Effect.tapErrorTag(self, "NotLoggedIn", () => Ref.set(ref, undefined))

    /** Refreshes `cached` (retrying transient failures of an unusable token) and caches the outcome. */
    const refresh = (cached: Cached, rejected: string | undefined) =>
      Effect.gen(function* () {
        let failures = cached.failures
        for (let retry = 0; ; retry++) {
          const outcome = yield* attempt(cached, rejected)
          if (outcome._tag === "Fresh") {
            yield* Ref.set(ref, outcome.cached)
            return outcome.cached.token
          }
          const base = yield* fromRecord(outcome.record)
          if (outcome._tag === "Permanent") {
            yield* Ref.set(ref, { ...base, refreshAtMillis: -Infinity, error: outcome.error })
            return yield* outcome.error
          }
          failures++
          const now = yield* Clock.currentTimeMillis
          const usable =
            now < base.expiresAtMillis && (rejected === undefined || Redacted.value(base.token) !== rejected)
          if (usable) {
            // serve the token we have and leave the issuer alone for a while (1 s, doubling, at most 5 min)
            const retryAfter = outcome.error.retryAfter ? Duration.toMillis(outcome.error.retryAfter) : 0
            const delay = Math.max(backoffMillis(failures), Math.min(retryAfter, BACKOFF_CAP))
            const refreshAtMillis = Math.min(now + delay, base.expiresAtMillis)
            yield* Ref.set(ref, { ...base, refreshAtMillis, failures, error: outcome.error })
            return base.token
          }
          if (retry === EXPIRED_RETRIES) {
            yield* Ref.set(ref, { ...base, refreshAtMillis: -Infinity, failures, error: outcome.error })
            return yield* outcome.error
          }
          yield* Effect.sleep(Duration.millis(BACKOFF_BASE * 2 ** retry))
          cached = base
        }
      })

    /**
     * The slow path, one caller at a time. `seen` is the cache the caller saw: if another caller changed it meanwhile,
     * its outcome is shared (the token while unexpired, or its failure) instead of refreshing again.
     */
    const slow = (seen: Cached | undefined, rejected: string | undefined) =>
      semaphore.withPermits(1)(
        forget(
          Effect.gen(function* () {
            let current = yield* Ref.get(ref)
            const shared = current !== seen && current !== undefined
            if (current === undefined) {
              current = yield* fromRecord(yield* loadRecord)
              yield* Ref.set(ref, current)
            }
            if (current.error?._tag === "RefreshError") {
              // permanent for its refresh token: fail until someone stores another one (signs in again)
              const record = yield* loadRecord
              if (refreshTokenOf(record) === refreshTokenOf(current.record)) return yield* current.error
              current = yield* fromRecord(record)
              yield* Ref.set(ref, current)
            }
            const now = yield* Clock.currentTimeMillis
            const usable =
              now < current.expiresAtMillis && (rejected === undefined || Redacted.value(current.token) !== rejected)
            if (usable && (shared || rejected !== undefined || now < current.refreshAtMillis)) return current.token
            if (shared && current.error !== undefined) return yield* current.error
            return yield* refresh(current, rejected)
          })
        )
      )

    const accessToken: AuthSession["Type"]["accessToken"] = Effect.flatMap(Ref.get(ref), (cached) =>
      cached === undefined
        ? slowAccessToken(undefined)
        : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            now < cached.refreshAtMillis ? cached.served : slowAccessToken(cached)
          )
    )

    const slowAccessToken = (seen: Cached | undefined) =>
      slow(seen, undefined).pipe(Effect.withSpan("AuthSession.accessToken"))

    const refreshAfterRejection: AuthSession["Type"]["refreshAfterRejection"] = (rejected) =>
      Effect.flatMap(Ref.get(ref), (seen) => slow(seen, Redacted.value(rejected))).pipe(
        Effect.withSpan("AuthSession.refreshAfterRejection")
      )

    const currentRecord = Effect.flatMap(Ref.get(ref), (cached) =>
      cached === undefined
        ? semaphore.withPermits(1)(
            Effect.gen(function* () {
              const again = yield* Ref.get(ref)
              if (again !== undefined) return again.record
              const loaded = yield* fromRecord(yield* loadRecord)
              yield* Ref.set(ref, loaded)
              return loaded.record
            })
          )
        : Effect.succeed(cached.record)
    )

    const claims: AuthSession["Type"]["claims"] = Effect.map(currentRecord, claimsOf).pipe(
      Effect.withSpan("AuthSession.claims")
    )

    const account: AuthSession["Type"]["account"] = Effect.flatMap(currentRecord, (record) =>
      Option.match(authMethod(record), {
        onNone: () => Effect.fail(new NotLoggedIn()),
        onSome: (method): Effect.Effect<SessionAccount> => {
          const idClaims = claimsOf(record)
          return Effect.succeed({
            method,
            email: idClaims.email,
            plan: idClaims.plan,
            accountId: Option.orElse(
              Option.flatMap(record.tokens, (tokens) => tokens.accountId),
              () => idClaims.accountId
            ),
            issuer: issuerOf(record),
            dialect: dialectOf(record)
          })
        }
      })
    ).pipe(Effect.withSpan("AuthSession.account"))

    return AuthSession.of({ accessToken, refreshAfterRejection, claims, account })
  })

/** The {@link AuthSession} over the store and issuer resolver in context. */
export const layer = (
  options: AuthSessionOptions = {}
): Layer.Layer<AuthSession, never, CredentialStore | IssuerResolver> => Layer.effect(AuthSession, make(options))
