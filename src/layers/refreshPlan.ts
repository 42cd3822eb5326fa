import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Equivalence from "effect/Equivalence"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { type DeviceAuthError, RefreshError } from "../domain/Errors.js"
import { accessTokenExpiry, issuerOf, summarizeSignIn } from "../domain/SignInSummary.js"
import { authMethod, StoredAuth, StoredTokens } from "../domain/StoredAuth.js"
import type { AuthSessionError, SessionAccount, SessionToken } from "../services/AuthSession.js"
import type { RefreshedTokens } from "../services/IssuerClient.js"
import { refreshBackoff } from "../services/schedules.js"
import type { RefreshStamp } from "../services/stamps.js"

/** What a session holds for one stored record: the token it hands out and until when, computed once per record. */
export interface Entry {
  readonly record: StoredAuth
  readonly token: Redacted.Redacted<string>
  /** What the session hands out for `token`: its expiry and request headers, worked out once per record. */
  readonly session: SessionToken
  /** `session` as an Effect made once, so the fast path allocates nothing. */
  readonly served: Effect.Effect<SessionToken>
  /** Before this, the fast path serves `token`; a backoff after a transient failure moves it later. */
  readonly refreshAtMillis: number
  /** From this on, `token` is never served. */
  readonly expiresAtMillis: number
  /** The state of {@link refreshBackoff} after the transient failures in a row (its initial state after none). */
  readonly backoff: unknown
  /** The last refresh failure: a RefreshError is final for `record`'s refresh token. */
  readonly error: RefreshError | DeviceAuthError | undefined
}

/** How early a session refreshes, in milliseconds: before expiry, and after `last_refresh` without one. */
export interface Limits {
  readonly skew: number
  readonly maxAge: number
}

/** Who asks for a token: the one a server refused, if any, and whether another caller settled the entry meanwhile. */
export interface Ask {
  readonly rejected: Option.Option<Redacted.Redacted<string>>
  readonly shared: boolean
}

/** What the session does next with the entry it holds, or with the record the store holds. */
export type RefreshPlan = Data.TaggedEnum<{
  /** Hand out this token. */
  Serve: { readonly token: SessionToken }
  /** Take what another process (or a new sign-in) stored, without a refresh. */
  Adopt: { readonly entry: Entry }
  /** Trade `refreshToken` at the sign-in's issuer and merge the answer into `record`. */
  Refresh: {
    readonly record: StoredAuth
    readonly tokens: StoredTokens
    readonly refreshToken: Redacted.Redacted<string>
  }
  /** Fail with a final refresh failure, or with the one another caller just met. */
  Fail: { readonly error: RefreshError | DeviceAuthError }
}>

/** Constructors and matchers for {@link RefreshPlan}. */
export const RefreshPlan = Data.taggedEnum<RefreshPlan>()

const secret = Redacted.getEquivalence(Equivalence.string)
const optionalSecret = Option.getEquivalence(secret)
const sameTokens = Option.getEquivalence(
  Equivalence.make<StoredTokens>(
    (a, b) => secret(a.accessToken, b.accessToken) && optionalSecret(a.refreshToken, b.refreshToken)
  )
)

/** Whether two records hold the same credentials: access and refresh token, or API key. */
export const sameCredentials = (a: StoredAuth, b: StoredAuth): boolean =>
  sameTokens(a.tokens, b.tokens) && (Option.isSome(a.tokens) || optionalSecret(a.apiKey, b.apiKey))

/** Whether two records hold the same refresh token (or both none). */
export const sameRefreshToken = (a: StoredAuth, b: StoredAuth): boolean =>
  optionalSecret(
    Option.flatMap(a.tokens, (tokens) => tokens.refreshToken),
    Option.flatMap(b.tokens, (tokens) => tokens.refreshToken)
  )

const makeEntry = (
  record: StoredAuth,
  token: Redacted.Redacted<string>,
  headers: SessionToken["headers"],
  refreshAtMillis: number,
  expiresAtMillis: number
) => {
  const expiresAt = Number.isFinite(expiresAtMillis) ? Option.some(DateTime.unsafeMake(expiresAtMillis)) : Option.none()
  const session: SessionToken = { accessToken: token, expiresAt, headers }
  return {
    record,
    token,
    session,
    served: Effect.succeed(session),
    refreshAtMillis,
    expiresAtMillis,
    backoff: refreshBackoff.initial,
    error: undefined
  } satisfies Entry
}

/**
 * The entry of a stored record; none when it holds nothing to hand out. A token with an expiry is refreshed at
 * expiry − min(skew, lifetime / 2), so one living less than the skew is not refreshed on every call; one without is
 * refreshed once `last_refresh` is `maxAge` old (at once without it); an API key never.
 */
export const entryOf = (
  record: StoredAuth,
  limits: Limits,
  headers: SessionToken["headers"] = {}
): Option.Option<Entry> => {
  const method = Option.getOrUndefined(authMethod(record))
  if (method === "apikey") {
    return Option.map(record.apiKey, (key) => makeEntry(record, key, headers, Infinity, Infinity))
  }
  if (method === undefined || Option.isNone(record.tokens)) return Option.none()
  const tokens = record.tokens.value
  const expiry = accessTokenExpiry(tokens)
  const lastRefresh = Option.map(record.lastRefresh, DateTime.toEpochMillis)
  if (Option.isNone(expiry)) {
    const refreshAt = Option.isSome(lastRefresh) ? lastRefresh.value + limits.maxAge : -Infinity
    return Option.some(makeEntry(record, tokens.accessToken, headers, refreshAt, Infinity))
  }
  const expiresAt = DateTime.toEpochMillis(expiry.value)
  const lifetime = Option.isSome(lastRefresh) ? expiresAt - lastRefresh.value : NaN
  const margin = lifetime > 0 ? Math.min(limits.skew, lifetime / 2) : limits.skew
  return Option.some(makeEntry(record, tokens.accessToken, headers, expiresAt - margin, expiresAt))
}

/** Whether `entry`'s token may be handed out at `now`: unexpired, and not the one a server just refused. */
export const isUsable = (entry: Entry, now: number, rejected: Option.Option<Redacted.Redacted<string>>): boolean =>
  now < entry.expiresAtMillis && !Option.exists(rejected, (token) => secret(token, entry.token))

/**
 * After `spent`'s refresh token was refused as spent elsewhere, what another program stored instead, if it can be
 * used: other credentials whose access token is usable, or that carry another refresh token to refresh with.
 */
export const successorOf = (
  spent: Entry,
  stored: Entry,
  now: number,
  rejected: Option.Option<Redacted.Redacted<string>>
): Option.Option<Entry> => {
  const hasRefreshToken = Option.exists(stored.record.tokens, (tokens) => Option.isSome(tokens.refreshToken))
  const usable = isUsable(stored, now, rejected) || (hasRefreshToken && !sameRefreshToken(stored.record, spent.record))
  return !sameCredentials(stored.record, spent.record) && usable ? Option.some(stored) : Option.none()
}

/**
 * Before the store's `exclusive` lock, from memory: fail while a final failure holds for the stored refresh token;
 * serve a usable token that is not due yet, that another caller just settled, or that is not the refused one; share
 * the failure another caller just met. None: the store decides, under its lock ({@link planStored}).
 */
export const planHeld = (
  held: Entry,
  now: number,
  ask: Ask
): Option.Option<Extract<RefreshPlan, { readonly _tag: "Serve" | "Fail" }>> => {
  if (held.error?._tag === "RefreshError") return Option.some(RefreshPlan.Fail({ error: held.error }))
  const due = !ask.shared && Option.isNone(ask.rejected) && now >= held.refreshAtMillis
  if (isUsable(held, now, ask.rejected) && !due) return Option.some(RefreshPlan.Serve({ token: held.session }))
  if (ask.shared && held.error !== undefined) return Option.some(RefreshPlan.Fail({ error: held.error }))
  return Option.none()
}

/**
 * Under the store's `exclusive` lock, with what it holds now: adopt credentials another process (or a new sign-in)
 * stored while they are unexpired, or a key; otherwise refresh with the stored refresh token, or fail for want of one.
 */
export const planStored = (
  held: Entry,
  stored: Entry,
  now: number,
  rejected: Option.Option<Redacted.Redacted<string>>
): Exclude<RefreshPlan, { readonly _tag: "Serve" }> => {
  const changed = Option.match(rejected, {
    onNone: () => !sameCredentials(stored.record, held.record),
    onSome: (token) => !secret(stored.token, token)
  })
  const record = stored.record
  if ((changed && now < stored.expiresAtMillis) || Option.isNone(record.tokens)) {
    return RefreshPlan.Adopt({ entry: stored })
  }
  const tokens = record.tokens.value
  return Option.match(tokens.refreshToken, {
    onNone: () => RefreshPlan.Fail({ error: new RefreshError({ reason: "Other", issuer: issuerOf(record) }) }),
    onSome: (refreshToken) => RefreshPlan.Refresh({ record, tokens, refreshToken })
  })
}

/**
 * The record after a refresh (codex-protocol.md §8): only the tokens present replace the stored ones, a new access
 * token brings the `expiresAt` its issuer keeps; every other field is kept, the account id and `login_owner_id` included
 * (as codex keeps them: a refresh adds no owner id). `last_refresh` is `now`, to the nanosecond.
 */
export const refreshedRecord = (
  record: StoredAuth,
  tokens: StoredTokens,
  refreshed: RefreshedTokens,
  now: RefreshStamp,
  storedExpiry: Option.Option<DateTime.Utc>
): StoredAuth =>
  new StoredAuth({
    ...record,
    tokens: Option.some(
      new StoredTokens({
        ...tokens,
        idToken: Option.orElse(refreshed.idToken, () => tokens.idToken),
        accessToken: Option.getOrElse(refreshed.accessToken, () => tokens.accessToken),
        refreshToken: Option.orElse(refreshed.refreshToken, () => tokens.refreshToken),
        expiresAt: Option.isNone(refreshed.accessToken) ? tokens.expiresAt : storedExpiry
      })
    ),
    lastRefresh: Option.some(now.at),
    lastRefreshNanos: now.nanos
  })

/** Who a record's sign-in belongs to (email, plan, account id, method, issuer, dialect); none when nobody is signed in. */
export const accountOf = (record: StoredAuth): Option.Option<SessionAccount> =>
  Option.map(summarizeSignIn(record), (summary) => ({
    method: summary.method,
    email: summary.claims.email,
    plan: summary.claims.plan,
    accountId: summary.accountId,
    issuer: summary.issuer,
    dialect: summary.dialect
  }))

/** What one caller gets from a turn on the slow path, and the entry it leaves cached (none: load the store again). */
export type Step = readonly [Effect.Effect<SessionToken, AuthSessionError>, Entry | undefined]

/** Hands out the entry's token, and keeps the entry cached. */
export const serve = (entry: Entry): Step => [entry.served, entry]

/** A refresh token the issuer found spent, and the failure to report if nobody stores its successor in time. */
export interface Spent {
  readonly spent: Entry
  readonly error: RefreshError | DeviceAuthError
}

/** A failed refresh: the caller fails, and so does every call until a refresh succeeds (or, if final, a new sign-in). */
export const failed = (entry: Entry, error: RefreshError | DeviceAuthError): Step => [
  Effect.fail(error),
  { ...entry, refreshAtMillis: -Infinity, error }
]

/**
 * The delay `schedule` chooses after one more `input`, stepping its state by hand: for a policy that is consulted
 * rather than slept on (the session serves its token meanwhile). `None` when the schedule is done.
 */
export const stepDelay = <In>(
  schedule: Schedule.Schedule<unknown, In>,
  state: unknown,
  input: In,
  now: number
): Effect.Effect<{ readonly state: unknown; readonly delay: Duration.Duration } | undefined> =>
  Effect.map(schedule.step(now, input, state), ([next, , decision]) =>
    ScheduleDecision.isDone(decision)
      ? undefined
      : { state: next, delay: Duration.millis(Math.max(0, ScheduleIntervals.start(decision.intervals) - now)) }
  )
