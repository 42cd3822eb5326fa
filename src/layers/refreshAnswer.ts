import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as HashSet from "effect/HashSet"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { type DeviceAuthError, NotLoggedIn, type StoreError } from "../domain/Errors.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import { RefreshInterrupted } from "../services/AuthSession.js"
import { type CredentialStore, keepAfter, lockDeadline, type Reservation } from "../services/CredentialStore.js"
import type { IssuerClient } from "../services/IssuerClient.js"
import { interruptGrace, interruptSaveBound } from "../services/schedules.js"
import { refreshInstant } from "../services/stamps.js"
import * as Plan from "./refreshPlan.js"

/** A request's outcome, and when (epoch ms) its caller was interrupted while waiting for it, if it was. */
export interface Answer<A, E> {
  readonly exit: Exit.Exit<A, E>
  readonly interruptedAt: Option.Option<number>
}

/**
 * Runs `request` — a refresh, which spends the stored refresh token once it is sent — so that interrupting the caller
 * does not throw its answer away. Called inside an uninterruptible region with that region's `restore`: the answer is
 * waited for interruptibly; if the caller is interrupted while the request is out, `onWait` is told and the answer is
 * still waited for, up to `grace`, after which the request is cut (its exit is then an interruption). The caller saves
 * an answer before its region ends, and the interruption takes effect after that.
 */
export const awaitAnswer = <A, E>(
  request: Effect.Effect<A, E>,
  restore: <X, Y, Z>(self: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>,
  grace: Duration.Duration,
  onWait: Effect.Effect<void>
): Effect.Effect<Answer<A, E>> =>
  Effect.gen(function* () {
    // a daemon: an interrupted fiber passes the interruption on to its children at once, which would cut the request
    const fiber = yield* Effect.forkDaemon(Effect.interruptible(request))
    const joined = yield* Effect.exit(restore(Fiber.join(fiber)))
    // only the caller's wait can have been interrupted here: nothing else interrupts the request yet
    if (!Exit.isInterrupted(joined)) return { exit: joined, interruptedAt: Option.none() }
    const interruptedAt = Option.some(yield* Clock.currentTimeMillis)
    const done = yield* Fiber.poll(fiber)
    if (Option.isSome(done)) return { exit: done.value, interruptedAt }
    yield* onWait
    // the cut runs on its own fiber, interruptible, so that it ends once the answer came in time
    const cut = yield* Effect.forkDaemon(
      Effect.interruptible(Effect.zipRight(Effect.sleep(grace), Fiber.interruptFork(fiber)))
    )
    const exit = yield* Fiber.await(fiber)
    yield* Fiber.interruptFork(cut)
    return { exit, interruptedAt }
  })

// whether the running fiber was interrupted, inside an uninterruptible region where that has not taken effect yet
const isInterrupted = Effect.map(Effect.descriptor, (fiber) => HashSet.size(fiber.interruptors) > 0)

/**
 * codex's write after its refresh request (codex-protocol.md §7): under the store's lock, read the store again
 * and save `updated` only if it still holds the credentials the refresh started from. Another program's refresh or
 * a new sign-in stored meanwhile wins and is returned instead; a sign-out meanwhile stays a sign-out.
 */
const saveUnlessChanged = (store: CredentialStore["Type"], read: StoredAuth, updated: StoredAuth, into: Reservation) =>
  store.locked(
    Effect.gen(function* () {
      // an unreadable record is nobody's newer sign-in: ours is written, and the save keeps that one aside
      const current = yield* store.load.pipe(
        Effect.catchIf(
          (error) => error.reason === "Corrupt",
          () => Effect.succeedSome(read)
        )
      )
      if (Option.isNone(current)) return yield* new NotLoggedIn()
      if (!Plan.sameCredentials(current.value, read)) return current.value
      yield* store.save(updated, { into })
      return updated
    })
  )

/**
 * A refresh at `issuer` by `plan`, its answer saved in `store` once it came: the request holds no codex lock; the write that follows is
 * not interruptible, and takes codex's lock only for itself. An interruption while the request is out waits up to
 * `interruptGrace` for the answer and saves it, its locks had by `interruptSaveBound` after the interruption. A
 * save that fails keeps the answer beside the store (`keep`) when the store can.
 */
export const refreshAndSave =
  (store: CredentialStore["Type"], onInterrupted: (event: RefreshInterrupted) => Effect.Effect<void>) =>
  (
    issuer: IssuerClient["Type"],
    plan: Extract<Plan.RefreshPlan, { readonly _tag: "Refresh" }>,
    rejected: Option.Option<Redacted.Redacted<string>>
  ): Effect.Effect<Either.Either<StoredAuth, DeviceAuthError>, DeviceAuthError | StoreError | NotLoggedIn> =>
    Effect.uninterruptibleMask((restore) =>
      Effect.gen(function* () {
        // the room for the save first: a full disk fails before the request spends the refresh token
        const into = yield* store.reserve(plan.record)
        // codex's refresh_reason: a server refused the token, or it is (about to be) expired
        const reason = Option.isSome(rejected) ? "unauthorized_recovery" : "proactive_expiry"
        const waiting = onInterrupted(RefreshInterrupted.Waiting({ bound: interruptGrace }))
        const { exit, interruptedAt } = yield* awaitAnswer(
          issuer.refresh(plan.refreshToken, reason),
          restore,
          interruptGrace,
          waiting
        )
        // interrupted while the request was out; one that comes during the save is looked for after it
        const interrupted = Option.isSome(interruptedAt)
        if (Exit.isFailure(exit)) {
          // the error as the issuer made it, not a span-annotated proxy: it is kept and Plan.failed with again
          const failure = Option.map(Cause.failureOption(exit.cause), Cause.originalError)
          if (interrupted) {
            yield* onInterrupted(
              Option.match(failure, {
                onNone: () => RefreshInterrupted.NoAnswer(),
                onSome: (error) => RefreshInterrupted.Failed({ error })
              })
            )
          }
          return yield* Option.match(failure, {
            onNone: () => Effect.failCause(exit.cause),
            onSome: (error) => Effect.succeed(Either.left(error))
          })
        }
        // a rotated refresh token is spent once the issuer answered: save it even if the caller goes away
        const now = yield* refreshInstant
        const expiry = issuer.storedExpiry(exit.value.expiresIn, now.at)
        const updated = Plan.refreshedRecord(plan.record, plan.tokens, exit.value, now, expiry)
        const saved = yield* saveUnlessChanged(store, plan.record, updated, into).pipe(
          Effect.catchTag("StoreError", (error) => keepAfter(store, updated, error)),
          Effect.tapErrorTag("StoreError", (error) =>
            Effect.whenEffect(onInterrupted(RefreshInterrupted.NotSaved({ error })), isInterrupted)
          ),
          (save) =>
            Option.match(interruptedAt, {
              onNone: () => save,
              onSome: (at) =>
                Effect.locally(save, lockDeadline, Option.some(at + Duration.toMillis(interruptSaveBound)))
            })
        )
        if (yield* isInterrupted) yield* onInterrupted(RefreshInterrupted.Saved())
        return Either.right(saved)
      })
    ).pipe(Effect.scoped)
