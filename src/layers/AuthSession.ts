import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as SynchronizedRef from "effect/SynchronizedRef"
import type * as Redacted from "effect/Redacted"
import { DeviceAuthError, NotLoggedIn, RefreshError, type StoreError } from "../domain/Errors.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import { AuthSession, RefreshInterrupted } from "../services/AuthSession.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { IssuerResolver } from "../services/IssuerResolver.js"
import {
  adoptionWatch,
  adoptionWatchBound,
  expiredTokenRetry,
  refreshBackoff,
  refreshBound,
  refreshMaxAge,
  refreshSkew
} from "../services/schedules.js"
import { accountIdOf, claimsOf } from "../domain/SignInSummary.js"
import * as Plan from "./refreshPlan.js"
import { before, requestsBefore } from "./refreshDeadline.js"
import * as RefreshAnswer from "./refreshAnswer.js"

export {
  AuthSession,
  type AuthSessionError,
  RefreshInterrupted,
  type SessionAccount,
  type SessionToken
} from "../services/AuthSession.js"

/** How early a session refreshes. */
export interface AuthSessionOptions {
  /** Refresh this long before the access token expires (at most half its lifetime); default 60 s. */
  readonly skew?: Duration.DurationInput
  /** Refresh a token without an expiry once `last_refresh` is this old; default 8 days (codex's rule). */
  readonly maxAge?: Duration.DurationInput
  /**
   * Told when the caller is interrupted while a refresh request is out, and then how the wait for its answer ended
   * (see {@link RefreshInterrupted}); default: nothing is told.
   */
  readonly onInterruptedRefresh?: (event: RefreshInterrupted) => Effect.Effect<void>
  /**
   * Told once, at once, when the issuer said the refresh token was already spent and nothing newer is stored yet: the
   * call then watches the store for up to `bound` (10 s) for what the program that spent it saves, before it fails
   * (see {@link SpentRefreshWatch}); default: nothing is told.
   */
  readonly onSpentRefreshWatch?: (watch: SpentRefreshWatch) => Effect.Effect<void>
}

/** A watch of the store after the issuer found the refresh token spent: what it said, and how long the watch lasts. */
export interface SpentRefreshWatch {
  /** The issuer's answer: a RefreshError (reason `Reused` when it said the token was already used), else as it came. */
  readonly error: RefreshError | DeviceAuthError
  /** How long the store is watched at most before the call fails with `error`. */
  readonly bound: Duration.Duration
}

type Rejected = Option.Option<Redacted.Redacted<string>>

/**
 * Makes an {@link AuthSession} over the store and the issuer of the stored sign-in. Tokens are served from memory
 * until shortly before they expire; one refresh runs at a time in the process (the cache's lock) and across
 * devicecode's processes (the store's `exclusive` lock, held across the request), codex's lock is held only around
 * the write that follows, and a refresh another process already made is adopted instead of repeated.
 */
export const make = (
  options: AuthSessionOptions = {}
): Effect.Effect<AuthSession["Type"], never, CredentialStore | IssuerResolver> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    const resolver = yield* IssuerResolver
    const limits = {
      skew: Duration.toMillis(Duration.decode(options.skew ?? refreshSkew)),
      maxAge: Duration.toMillis(Duration.decode(options.maxAge ?? refreshMaxAge))
    }
    const ref = yield* SynchronizedRef.make<Plan.Entry | undefined>(undefined)
    const onInterrupted = options.onInterruptedRefresh ?? (() => Effect.void)
    const onSpentWatch = options.onSpentRefreshWatch ?? (() => Effect.void)

    const loadRecord = Effect.flatMap(
      store.load,
      Effect.orElseFail(() => new NotLoggedIn())
    )
    // the headers the record's issuer wants on an app's requests are worked out once per record, like its expiry
    const headersFor = (record: StoredAuth) =>
      resolver.requestHeaders === undefined
        ? Effect.map(resolver.forSignIn(record.origin), (client) => client.requestHeaders(accountIdOf(record)))
        : Effect.succeed(resolver.requestHeaders(record.origin, accountIdOf(record)))
    const entryFor = (record: StoredAuth) =>
      Effect.flatMap(headersFor(record), (headers) =>
        Effect.orElseFail(Plan.entryOf(record, limits, headers), () => new NotLoggedIn())
      )
    const loadEntry = Effect.flatMap(loadRecord, entryFor)

    // a final failure holds for its refresh token only: once another one is stored (a new sign-in), it is served
    const recheck = (held: Plan.Entry | undefined) =>
      held === undefined
        ? loadEntry
        : held.error?._tag !== "RefreshError"
          ? Effect.succeed(held)
          : Effect.flatMap(loadRecord, (record) =>
              Plan.sameRefreshToken(record, held.record) ? Effect.succeed(held) : entryFor(record)
            )

    // the store's failures end a turn; with nothing stored, the next call loads the store again
    const settleStore =
      (held: Plan.Entry | undefined) =>
      <A>(
        self: Effect.Effect<A | Plan.Step, DeviceAuthError | NotLoggedIn | StoreError>
      ): Effect.Effect<A | Plan.Step, DeviceAuthError> =>
        Effect.catchTags(self, {
          NotLoggedIn: (error) => Effect.succeed<Plan.Step>([Effect.fail(error), undefined]),
          StoreError: (error) => Effect.succeed<Plan.Step>([Effect.fail(error), held])
        })

    const refreshAndSave = RefreshAnswer.refreshAndSave(store, onInterrupted)

    /**
     * One attempt, planned on what the store holds now. After a transient failure a still-usable token is served and
     * the issuer left alone for `refreshBackoff`'s next delay; with an unusable one the attempt fails.
     */
    const attempt = (
      held: Plan.Entry,
      rejected: Rejected,
      deadline: number
    ): Effect.Effect<Plan.Step | Plan.Spent, DeviceAuthError> =>
      Effect.gen(function* () {
        const stored = yield* loadEntry
        const plan = Plan.planStored(held, stored, yield* Clock.currentTimeMillis, rejected)
        if (plan._tag === "Adopt") return Plan.serve(plan.entry)
        if (plan._tag === "Fail") return Plan.failed(stored, plan.error)
        const issuer = yield* resolver.forSignIn(plan.record.origin)
        const answer = yield* refreshAndSave(requestsBefore(issuer, deadline), plan, rejected)
        if (Either.isRight(answer)) return Plan.serve(yield* entryFor(answer.right))
        const error = answer.left
        const final = Option.map(issuer.refreshFailure(error), (reason) => {
          const code = error.code === undefined ? {} : { code: error.code }
          return new RefreshError({ reason, issuer: issuer.issuer, ...code })
        })
        if (issuer.refreshSpentElsewhere(error)) return { spent: stored, error: Option.getOrElse(final, () => error) }
        if (Option.isSome(final)) return Plan.failed(stored, final.value)
        const now = yield* Clock.currentTimeMillis
        const next = Plan.isUsable(stored, now, rejected)
          ? yield* Plan.stepDelay(refreshBackoff, held.backoff, error, now)
          : undefined
        if (next === undefined) return yield* error
        const refreshAtMillis = Math.min(now + Duration.toMillis(next.delay), stored.expiresAtMillis)
        return [stored.served, { ...stored, refreshAtMillis, backoff: next.state, error }] satisfies Plan.Step
      }).pipe(settleStore(held), Effect.withSpan("AuthSession.refresh"))

    /**
     * A refresh of `held` holding the store's `exclusive` lock, so devicecode's processes send one at a time: one
     * that waited for it finds the holder's result stored and adopts it. With an expired token it is retried inside
     * the call and its last failure shared. `refreshBound` bounds the requests and the waits between them, not the
     * waits for locks, which have bounds of their own and fail naming the lock.
     */
    const refreshExclusively = (held: Plan.Entry, rejected: Rejected): Effect.Effect<Plan.Step | Plan.Spent> =>
      store
        .exclusive(
          Effect.flatMap(Clock.currentTimeMillis, (start) => {
            const deadline = start + Duration.toMillis(refreshBound)
            return Effect.retry(attempt(held, rejected, deadline), {
              schedule: expiredTokenRetry,
              while: () => before(deadline)
            })
          })
        )
        .pipe(
          settleStore(held),
          Effect.catchAll((error) => Effect.succeed(Plan.failed(held, error)))
        )

    /**
     * After the issuer said the refresh token was spent, with no lock held: another program (codex refreshes with no
     * lock and writes a moment later) may be about to store what it got. Watch the store on `adoptionWatch` for up to
     * 10 s for other credentials: adopt their access token while it is valid, or else refresh once with their refresh
     * token; with none, fail as the issuer said. `onSpentRefreshWatch` hears of the watch when the first look finds none.
     */
    const adoptOrFail = ({ error, spent }: Plan.Spent, rejected: Rejected): Effect.Effect<Plan.Step> =>
      Effect.flatMap(Effect.once(onSpentWatch({ error, bound: adoptionWatchBound })), (tellOnce) =>
        Effect.gen(function* () {
          return Plan.successorOf(spent, yield* loadEntry, yield* Clock.currentTimeMillis, rejected)
        }).pipe(
          Effect.tap((found) => (Option.isNone(found) ? tellOnce : Effect.void)),
          Effect.repeat(adoptionWatch<Plan.Entry>())
        )
      ).pipe(
        Effect.timeout(adoptionWatchBound),
        Effect.flatMap((found) =>
          Option.isSome(found) ? adopt(found.value, rejected) : Effect.succeed(Plan.failed(spent, error))
        ),
        Effect.catchTag("TimeoutException", () => Effect.succeed(Plan.failed(spent, error))),
        settleStore(spent),
        Effect.catchAll((error) => Effect.succeed(Plan.failed(spent, error))),
        Effect.withSpan("AuthSession.adoptAfterSpent")
      )

    // a successor whose refresh token is spent too is not watched for again: its failure is the caller's
    const adopt = (found: Plan.Entry, rejected: Rejected): Effect.Effect<Plan.Step> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Plan.isUsable(found, now, rejected)
          ? Effect.succeed(Plan.serve(found))
          : Effect.map(refreshExclusively(found, rejected), (outcome) =>
              "spent" in outcome ? Plan.failed(outcome.spent, outcome.error) : outcome
            )
      )

    /** A refresh of `held`; after a refresh token spent elsewhere, the adoption of what the other program stored. */
    const refresh = (held: Plan.Entry, rejected: Rejected): Effect.Effect<Plan.Step> =>
      Effect.flatMap(refreshExclusively(held, rejected), (outcome) =>
        "spent" in outcome ? adoptOrFail(outcome, rejected) : Effect.succeed(outcome)
      )

    /**
     * The slow path, one caller at a time (the cache's lock). `seen` is the entry the caller saw: if another caller
     * changed it meanwhile, its outcome (the token while usable, or its failure) is shared instead of refreshing again.
     */
    const slow = (seen: Plan.Entry | undefined, rejected: Rejected) =>
      Effect.flatten(
        SynchronizedRef.modifyEffect(ref, (held) =>
          Effect.gen(function* () {
            const current = yield* recheck(held)
            const ask = { rejected, shared: held !== undefined && held !== seen }
            const plan = Plan.planHeld(current, yield* Clock.currentTimeMillis, ask)
            if (Option.isNone(plan)) return yield* refresh(current, rejected)
            const handOut =
              plan.value._tag === "Serve" ? Effect.succeed(plan.value.token) : Effect.fail(plan.value.error)
            return [handOut, current] satisfies Plan.Step
          }).pipe(settleStore(held))
        )
      )

    const token: AuthSession["Type"]["token"] = Effect.flatMap(SynchronizedRef.get(ref), (held) =>
      held === undefined
        ? slowToken(undefined)
        : Effect.flatMap(Clock.currentTimeMillis, (now) => (now < held.refreshAtMillis ? held.served : slowToken(held)))
    )

    const slowToken = (seen: Plan.Entry | undefined) =>
      slow(seen, Option.none()).pipe(Effect.withSpan("AuthSession.token"))

    const accessToken: AuthSession["Type"]["accessToken"] = Effect.map(token, (current) => current.accessToken)

    const refreshAfterRejection: AuthSession["Type"]["refreshAfterRejection"] = (rejected) =>
      Effect.flatMap(SynchronizedRef.get(ref), (seen) => slow(seen, Option.some(rejected))).pipe(
        Effect.withSpan("AuthSession.refreshAfterRejection")
      )

    const currentRecord = Effect.flatMap(SynchronizedRef.get(ref), (held) =>
      held !== undefined
        ? Effect.succeed(held.record)
        : SynchronizedRef.modifyEffect(ref, (again) =>
            Effect.map(
              again === undefined ? loadEntry : Effect.succeed(again),
              (entry) => [entry.record, entry] as const
            )
          )
    )

    const claims: AuthSession["Type"]["claims"] = Effect.map(currentRecord, claimsOf).pipe(
      Effect.withSpan("AuthSession.claims")
    )

    const account: AuthSession["Type"]["account"] = Effect.flatMap(currentRecord, (record) =>
      Option.match(Plan.accountOf(record), { onNone: () => Effect.fail(new NotLoggedIn()), onSome: Effect.succeed })
    ).pipe(Effect.withSpan("AuthSession.account"))

    return AuthSession.of({ token, accessToken, refreshAfterRejection, claims, account })
  })

/** The {@link AuthSession} over the store and issuer resolver in context. */
export const layer = (
  options: AuthSessionOptions = {}
): Layer.Layer<AuthSession, never, CredentialStore | IssuerResolver> => Layer.effect(AuthSession, make(options))
