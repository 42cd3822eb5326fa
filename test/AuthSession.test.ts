import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, Ref, TestClock } from "effect"
import { DeviceAuthError, NotLoggedIn, RefreshError } from "../src/domain/Errors.js"
import { emptyClaims } from "../src/domain/IdTokenClaims.js"
import { apiKeyAuth, SignInOrigin, StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import type { AuthSessionError, SessionToken } from "../src/services/AuthSession.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { adoptionWatchBound } from "../src/services/schedules.js"
import { IssuerClient, type RefreshedTokens } from "../src/services/IssuerClient.js"
import { chatgptClaims, unsignedJwt } from "../src/testing/ScriptedIssuer.js"

const ISSUER = "https://issuer.test"

/** A JWT access token expiring at `exp` (seconds since the epoch; TestClock starts at 0). */
const jwt = (exp: number, tag = "a") => unsignedJwt({ sub: "user-test", exp, tag })

const codexRecord = (options: {
  readonly access: string
  readonly lastRefresh?: number | null
  readonly refreshToken?: string
  readonly origin?: SignInOrigin
  readonly expiresAt?: number
}) =>
  new StoredAuth({
    authMode: Option.some(options.origin?.dialect === "rfc8628" ? "oidc" : "chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(Redacted.make(unsignedJwt(chatgptClaims({ accountId: "acct_old" })))),
        accessToken: Redacted.make(options.access),
        refreshToken: Option.some(Redacted.make(options.refreshToken ?? "rt-1")),
        accountId: Option.some("acct_old"),
        loginOwnerId: Option.none(),
        expiresAt: Option.map(Option.fromNullable(options.expiresAt), (ms) => DateTime.unsafeMake(ms)),
        extra: [["future_token_field", 1]]
      })
    ),
    lastRefresh:
      options.lastRefresh === null ? Option.none() : Option.some(DateTime.unsafeMake(options.lastRefresh ?? 0)),
    origin: Option.fromNullable(options.origin),
    extra: [["future_top_field", "kept"]]
  })

type Scripted = RefreshedTokens | DeviceAuthError

/**
 * A scripted answer made from the Clock time and the refresh count; an Effect for one that takes time, which may act
 * on the store as another program (`other`: the store without the session's lock tracking).
 */
type Answer = (
  now: number,
  n: number,
  other: CredentialStore["Type"]
) => RefreshedTokens | Effect.Effect<RefreshedTokens, DeviceAuthError>

/** A refresh answer whose access token lives `ttl` seconds from the Clock's now. */
const answer =
  (ttl: number, extra: Partial<RefreshedTokens> = {}) =>
  (now: number, n: number): RefreshedTokens => ({
    accessToken: Option.some(Redacted.make(jwt(Math.floor(now / 1000) + ttl, `refreshed-${n}`))),
    idToken: Option.none(),
    refreshToken: Option.some(Redacted.make(`rt-${n + 1}`)),
    expiresIn: Option.some(Duration.seconds(ttl)),
    ...extra
  })

const rejected = (status: number, code?: string, detail?: string) =>
  new DeviceAuthError({
    reason: "Rejected",
    issuer: ISSUER,
    step: "refresh",
    status,
    ...(code === undefined ? {} : { code }),
    ...(detail === undefined ? {} : { detail })
  })

const unavailable = new DeviceAuthError({ reason: "Unavailable", issuer: ISSUER, step: "refresh", status: 503 })

/** Which of the store's locks are held: `locked` (codex's write lock) and `exclusive` (devicecode's refresh lock). */
interface Held {
  readonly locked: boolean
  readonly exclusive: boolean
}

/**
 * A session on a MemoryStore over a scripted issuer: each refresh takes the next answer (a function of the Clock time
 * and the refresh count), or a fresh 1-hour token once they run out. The log says which store locks each refresh
 * request and each save ran under.
 */
const setup = (
  initial: Option.Option<StoredAuth>,
  answers: ReadonlyArray<Scripted | Answer> = [],
  options: {
    readonly dialect?: "codex" | "rfc8628"
    readonly saveDelay?: Duration.DurationInput
    readonly session?: AuthSession.AuthSessionOptions
  } = {}
) =>
  Effect.gen(function* () {
    const memory = yield* MemoryStore.make(initial)
    const saveDelay = options.saveDelay
    const held = yield* Ref.make<Held>({ locked: false, exclusive: false })
    const holding =
      (lock: keyof Held) =>
      <A, E, R>(self: Effect.Effect<A, E, R>) =>
        Effect.acquireUseRelease(
          Ref.update(held, (h) => ({ ...h, [lock]: true })),
          () => self,
          () => Ref.update(held, (h) => ({ ...h, [lock]: false }))
        )
    const saves = yield* Ref.make<ReadonlyArray<Held>>([])
    const store: CredentialStore["Type"] = {
      ...memory,
      locked: (self) => memory.locked(holding("locked")(self)),
      exclusive: (self) => memory.exclusive(holding("exclusive")(self)),
      save: (auth) =>
        Effect.all([
          Effect.flatMap(Ref.get(held), (now) => Ref.update(saves, (all) => [...all, now])),
          saveDelay === undefined ? Effect.void : Effect.sleep(saveDelay),
          memory.save(auth)
        ])
    }
    const script = yield* Ref.make(answers)
    const log = yield* Ref.make<
      ReadonlyArray<{
        readonly at: number
        readonly refreshToken: string
        readonly held: Held
        readonly reason?: string
      }>
    >([])
    const {
      origin: _origin,
      authMode: _authMode,
      ...rules
    } = options.dialect === "rfc8628"
      ? OidcIssuer.rules(ISSUER, "client", "openid")
      : CodexIssuer.rules(ISSUER, "client")
    const service: IssuerClient["Type"] = {
      issuer: ISSUER,
      ...rules,
      revoke: () => Effect.die("not scripted"),
      refresh: (refreshToken, reason) =>
        Effect.gen(function* () {
          const at = yield* TestClock.currentTimeMillis
          const n = (yield* Ref.get(log)).length + 1
          const locks = yield* Ref.get(held)
          const entry = { at, refreshToken: Redacted.value(refreshToken), held: locks, ...(reason ? { reason } : {}) }
          yield* Ref.update(log, (all) => [...all, entry])
          const next = yield* Ref.modify(script, (all) => [all[0], all.slice(1)] as const)
          if (next === undefined) return answer(3600)(at, n)
          if (typeof next === "function") {
            const made = next(at, n, memory)
            return Effect.isEffect(made) ? yield* made : made
          }
          if (next instanceof DeviceAuthError) return yield* next
          return next
        })
    }
    const layer = Layer.mergeAll(
      Layer.succeed(CredentialStore, store),
      IssuerResolver.fixed.pipe(Layer.provide(Layer.succeed(IssuerClient, service)))
    )
    const makeSession = AuthSession.make(options.session).pipe(Effect.provide(layer))
    const session = yield* makeSession
    const refreshes = Effect.map(Ref.get(log), (all) => all.length)
    const stored = Effect.map(store.load, Option.getOrThrow)
    return { store, session, makeSession, log: Ref.get(log), refreshes, stored, saves: Ref.get(saves) }
  })

const token = (effect: Effect.Effect<Redacted.Redacted<string> | SessionToken, AuthSessionError>) =>
  Effect.map(effect, (answer) => Redacted.value(Redacted.isRedacted(answer) ? answer : answer.accessToken))

const failureOf = <A>(exit: Exit.Exit<A, AuthSessionError>): AuthSessionError => {
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
  throw new Error(`expected a failure, got ${String(exit)}`)
}

/** Runs `effect` while the clock moves past the 10 s a session watches the store after a spent refresh token. */
const exitAfterWatch = <A>(effect: Effect.Effect<A, AuthSessionError>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.exit(effect))
    yield* TestClock.adjust(adoptionWatchBound)
    return yield* Fiber.join(fiber)
  })

const storedAccess = (record: StoredAuth) => Redacted.value(Option.getOrThrow(record.tokens).accessToken)

describe("AuthSession: proactive refresh", () => {
  it.effect("serves the cached token until exp − 60 s, then refreshes exactly once", () =>
    Effect.gen(function* () {
      const first = jwt(3600)
      const { session, refreshes, stored, log } = yield* setup(Option.some(codexRecord({ access: first })))
      assert.strictEqual(yield* token(session.accessToken), first)
      yield* TestClock.adjust(Duration.millis(3_540_000 - 1))
      assert.strictEqual(yield* token(session.accessToken), first)
      assert.strictEqual(yield* refreshes, 0)
      yield* TestClock.adjust(Duration.millis(1))
      const second = yield* token(session.accessToken)
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* token(session.accessToken), second)
      assert.deepStrictEqual(
        (yield* log).map(({ at, reason, refreshToken }) => ({ at, refreshToken, reason })),
        [{ at: 3_540_000, refreshToken: "rt-1", reason: "proactive_expiry" }]
      )

      const record = yield* stored
      const tokens = Option.getOrThrow(record.tokens)
      assert.strictEqual(storedAccess(record), second)
      assert.strictEqual(Redacted.value(Option.getOrThrow(tokens.refreshToken)), "rt-2")
      assert.deepStrictEqual(Option.map(record.lastRefresh, DateTime.toEpochMillis), Option.some(3_540_000))
      // codex's auth.json shape: no expires_at, the old id_token and account id kept, unknown fields kept
      assert.isTrue(Option.isNone(tokens.expiresAt))
      assert.deepStrictEqual(tokens.accountId, Option.some("acct_old"))
      assert.isTrue(Option.isSome(tokens.idToken))
      assert.deepStrictEqual(tokens.extra, [["future_token_field", 1]])
      assert.deepStrictEqual(record.extra, [["future_top_field", "kept"]])
    })
  )

  it.effect("a token living 30 s (less than the skew) is refreshed 15 s before expiry, not on every call", () =>
    Effect.gen(function* () {
      const { session, refreshes, log } = yield* setup(Option.some(codexRecord({ access: jwt(30) })), [
        answer(30),
        answer(30)
      ])
      for (let i = 0; i < 5; i++) {
        yield* session.accessToken
        yield* TestClock.adjust(Duration.millis(2_999))
      }
      assert.strictEqual(yield* refreshes, 0)
      yield* TestClock.adjust(Duration.millis(5))
      yield* session.accessToken
      assert.strictEqual(yield* refreshes, 1)
      for (let i = 0; i < 14; i++) {
        yield* TestClock.adjust(Duration.seconds(1))
        yield* session.accessToken
      }
      assert.strictEqual(yield* refreshes, 1)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* session.accessToken
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.at),
        [15_000, 30_000]
      )
    })
  )

  it.effect("a token without exp is refreshed once last_refresh is 8 days old", () =>
    Effect.gen(function* () {
      const { session, refreshes } = yield* setup(Option.some(codexRecord({ access: "opaque-access-token" })))
      assert.strictEqual(yield* token(session.accessToken), "opaque-access-token")
      yield* TestClock.adjust(Duration.sum(Duration.days(7), Duration.minutes(23 * 60 + 59)))
      assert.strictEqual(yield* token(session.accessToken), "opaque-access-token")
      assert.strictEqual(yield* refreshes, 0)
      yield* TestClock.adjust(Duration.minutes(1))
      assert.notStrictEqual(yield* token(session.accessToken), "opaque-access-token")
      assert.strictEqual(yield* refreshes, 1)
    })
  )

  it.effect("a token without exp or last_refresh is refreshed at once", () =>
    Effect.gen(function* () {
      const { session, refreshes } = yield* setup(
        Option.some(codexRecord({ access: "opaque-access-token", lastRefresh: null }))
      )
      assert.notStrictEqual(yield* token(session.accessToken), "opaque-access-token")
      assert.strictEqual(yield* refreshes, 1)
    })
  )

  it.effect("an rfc8628 record refreshes by its expires_at and stores the new one", () =>
    Effect.gen(function* () {
      const origin = new SignInOrigin({ dialect: "rfc8628", issuer: ISSUER, clientId: "cli", scope: Option.none() })
      const { session, refreshes, stored } = yield* setup(
        Option.some(codexRecord({ access: "opaque-oidc-token", origin, expiresAt: 300_000 })),
        [answer(300)],
        { dialect: "rfc8628" }
      )
      yield* TestClock.adjust(Duration.millis(240_000 - 1))
      assert.strictEqual(yield* token(session.accessToken), "opaque-oidc-token")
      yield* TestClock.adjust(Duration.millis(1))
      yield* session.accessToken
      assert.strictEqual(yield* refreshes, 1)
      const record = yield* stored
      assert.deepStrictEqual(
        Option.map(Option.getOrThrow(record.tokens).expiresAt, DateTime.toEpochMillis),
        Option.some(540_000)
      )
      assert.deepStrictEqual(record.origin, Option.some(origin))
    })
  )

  it.effect("a new id_token brings its claims but the stored account id is kept, as codex keeps it", () =>
    Effect.gen(function* () {
      const idToken = unsignedJwt(chatgptClaims({ accountId: "acct_new", plan: "pro" }))
      const { session, stored } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        answer(3600, { idToken: Option.some(Redacted.make(idToken)) })
      ])
      yield* session.accessToken
      const tokens = Option.getOrThrow((yield* stored).tokens)
      assert.deepStrictEqual(Option.map(tokens.idToken, Redacted.value), Option.some(idToken))
      assert.deepStrictEqual(tokens.accountId, Option.some("acct_old"))
      const account = yield* session.account
      assert.deepStrictEqual(account.plan, Option.some("pro"))
      assert.deepStrictEqual(account.accountId, Option.some("acct_old"))
    })
  )

  it.effect("concurrent callers across an expiry share one refresh", () =>
    Effect.gen(function* () {
      const { session, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(0) })))
      const tokens = yield* Effect.all(
        Array.from({ length: 500 }, () => token(session.accessToken)),
        {
          concurrency: "unbounded"
        }
      )
      assert.strictEqual(new Set(tokens).size, 1)
      assert.strictEqual(yield* refreshes, 1)
    })
  )
})

const PERMANENT: ReadonlyArray<readonly [string, RefreshError["reason"], string]> = [
  [
    "refresh_token_expired",
    "Expired",
    "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."
  ],
  [
    "refresh_token_reused",
    "Reused",
    "Your access token could not be refreshed because your refresh token was already used. Another program (codex, or another devicecode) may have refreshed it and not saved the new one yet: try again in a few seconds. If it keeps failing, log out and sign in again."
  ],
  [
    "refresh_token_invalidated",
    "Invalidated",
    "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again."
  ],
  ["token_is_bad", "Other", "Your access token could not be refreshed. Please log out and sign in again."]
]

describe("AuthSession: permanent refresh errors", () => {
  for (const [code, reason, message] of PERMANENT) {
    it.effect(`401 ${code} → RefreshError ${reason}, cached until the store holds another refresh token`, () =>
      Effect.gen(function* () {
        const { session, store, refreshes, stored } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
          rejected(401, code)
        ])
        // a spent token is watched for 10 s in case another program stores its successor; nobody does here
        const error = failureOf(yield* exitAfterWatch(session.accessToken))
        assert.instanceOf(error, RefreshError)
        assert.strictEqual(error.reason, reason)
        assert.strictEqual(error.message, message)
        yield* TestClock.adjust(Duration.minutes(10))
        const again = failureOf(yield* Effect.exit(session.accessToken))
        assert.instanceOf(again, RefreshError)
        assert.strictEqual(again.message, message)
        assert.strictEqual(yield* refreshes, 1)
        // the same refresh token stored again (e.g. another token rewritten) does not help
        yield* store.save(yield* stored)
        assert.strictEqual(failureOf(yield* Effect.exit(session.accessToken)).message, message)

        // signing in again stores another refresh token: the session recovers without a refresh
        const fresh = jwt(10_000, "relogin")
        yield* store.save(codexRecord({ access: fresh, refreshToken: "rt-relogin", lastRefresh: 600_000 }))
        assert.strictEqual(yield* token(session.accessToken), fresh)
        assert.strictEqual(yield* refreshes, 1)
      })
    )
  }

  it.effect("rfc8628: 400 invalid_grant is permanent, its reason taken from the description", () =>
    Effect.gen(function* () {
      const origin = new SignInOrigin({ dialect: "rfc8628", issuer: ISSUER, clientId: "cli", scope: Option.none() })
      const record = Option.some(codexRecord({ access: "opaque", origin, expiresAt: 0 }))
      const revoked = yield* setup(record, [rejected(400, "invalid_grant", "The refresh token was revoked.")], {
        dialect: "rfc8628"
      })
      const error = failureOf(yield* exitAfterWatch(revoked.session.accessToken))
      assert.instanceOf(error, RefreshError)
      assert.strictEqual(error.reason, "Invalidated")
      assert.strictEqual(error.code, "invalid_grant")
      const vague = yield* setup(record, [rejected(400, "invalid_grant")], { dialect: "rfc8628" })
      const other = failureOf(yield* exitAfterWatch(vague.session.accessToken))
      assert.instanceOf(other, RefreshError)
      assert.strictEqual(other.reason, "Other")
    })
  )
})

describe("AuthSession: a refresh that never answers", () => {
  it.effect("with an expired token the call ends by itself after 60 s, retries included, with a clear error", () =>
    Effect.gen(function* () {
      const { session } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        () => Effect.never,
        () => Effect.never,
        () => Effect.never,
        () => Effect.never
      ])
      const fiber = yield* Effect.fork(Effect.exit(session.accessToken))
      yield* TestClock.adjust(Duration.millis(60_000 - 1))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still trying at 59.999 s")
      yield* TestClock.adjust(Duration.millis(1))
      const error = failureOf(yield* Fiber.join(fiber))
      assert.instanceOf(error, DeviceAuthError)
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "within 1m, retries included")
    })
  )

  it.effect(
    "interrupting the caller while the request is out: its answer is awaited 4 s, then the request is cut",
    () =>
      Effect.gen(function* () {
        const events = yield* Ref.make<ReadonlyArray<string>>([])
        const onInterruptedRefresh = (event: AuthSession.RefreshInterrupted) =>
          Ref.update(events, (all) => [...all, event._tag])
        const { session, stored } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [() => Effect.never], {
          session: { onInterruptedRefresh }
        })
        const before = yield* stored
        const fiber = yield* Effect.fork(session.accessToken)
        yield* TestClock.adjust(Duration.seconds(2))
        yield* Fiber.interruptFork(fiber)
        yield* TestClock.adjust(Duration.millis(3999))
        assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting for the answer")
        assert.deepStrictEqual(yield* Ref.get(events), ["Waiting"])
        yield* TestClock.adjust(Duration.millis(1))
        assert.isTrue(Exit.isInterrupted(yield* Fiber.await(fiber)))
        assert.deepStrictEqual(yield* Ref.get(events), ["Waiting", "NoAnswer"])
        assert.deepStrictEqual(yield* stored, before)
      })
  )

  it.effect("interrupting the caller while the request is out: an answer within 4 s is saved, then it ends", () =>
    Effect.gen(function* () {
      const events = yield* Ref.make<ReadonlyArray<string>>([])
      const onInterruptedRefresh = (event: AuthSession.RefreshInterrupted) =>
        Ref.update(events, (all) => [...all, event._tag])
      const slow: Answer = (now, n) => Effect.as(Effect.sleep("3 seconds"), answer(3600)(now, n))
      const { session, stored } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [slow], {
        session: { onInterruptedRefresh }
      })
      const fiber = yield* Effect.fork(session.accessToken)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.interruptFork(fiber)
      yield* TestClock.adjust(Duration.seconds(2))
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(fiber)))
      assert.deepStrictEqual(yield* Ref.get(events), ["Waiting", "Saved"])
      const saved = Option.getOrThrow((yield* stored).tokens)
      assert.strictEqual(Redacted.value(Option.getOrThrow(saved.refreshToken)), "rt-2")
    })
  )
  it.effect("interrupting the caller while the request is out: a failure answered within 4 s is told as Failed", () =>
    Effect.gen(function* () {
      const events = yield* Ref.make<ReadonlyArray<AuthSession.RefreshInterrupted>>([])
      const onInterruptedRefresh = (event: AuthSession.RefreshInterrupted) =>
        Ref.update(events, (all) => [...all, event])
      const refused = rejected(401, "refresh_token_expired")
      const slow: Answer = () => Effect.zipRight(Effect.sleep("2 seconds"), Effect.fail(refused))
      const { session, stored } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [slow], {
        session: { onInterruptedRefresh }
      })
      const before = yield* stored
      const fiber = yield* Effect.fork(session.accessToken)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.interruptFork(fiber)
      yield* TestClock.adjust(Duration.seconds(1))
      assert.isTrue(Exit.isInterrupted(yield* Fiber.await(fiber)))
      const told = yield* Ref.get(events)
      assert.deepStrictEqual(
        told.map((event) => event._tag),
        ["Waiting", "Failed"]
      )
      const failed = told[1]
      assert.strictEqual(failed?._tag === "Failed" && failed.error.code, "refresh_token_expired")
      assert.deepStrictEqual(yield* stored, before)
    })
  )
})

describe("AuthSession: a refresh token spent by another program", () => {
  it.effect("refresh_token_reused, then the other program stores its result 2 s later: adopted, no failure", () =>
    Effect.gen(function* () {
      const codexToken = jwt(10_000, "codex")
      const { session, store, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        rejected(401, "refresh_token_reused")
      ])
      const fiber = yield* Effect.fork(token(session.accessToken))
      yield* TestClock.adjust(Duration.seconds(2))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still watching the store")
      yield* store.save(codexRecord({ access: codexToken, refreshToken: "rt-codex", lastRefresh: 2000 }))
      yield* TestClock.adjust(Duration.millis(100))
      assert.strictEqual(yield* Fiber.join(fiber), codexToken)
      assert.strictEqual(yield* refreshes, 1)
      // and it stays adopted: the next call serves it from memory
      assert.strictEqual(yield* token(session.accessToken), codexToken)
      assert.strictEqual(yield* refreshes, 1)
    })
  )

  it.effect("a record stored in the watch with an expired token but a new refresh token: refreshed once with it", () =>
    Effect.gen(function* () {
      const { session, store, stored, log } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        rejected(401, "refresh_token_reused")
      ])
      const fiber = yield* Effect.fork(token(session.accessToken))
      yield* TestClock.adjust(Duration.seconds(1))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still watching the store")
      yield* store.save(codexRecord({ access: jwt(0, "stale"), refreshToken: "rt-stale", lastRefresh: 1000 }))
      yield* TestClock.adjust(Duration.millis(100))
      const fresh = yield* Fiber.join(fiber)
      assert.strictEqual(fresh, jwt(3600 + 1, "refreshed-2"))
      assert.deepStrictEqual(
        (yield* log).map((entry) => [entry.refreshToken, entry.held]),
        [
          ["rt-1", { locked: false, exclusive: true }],
          ["rt-stale", { locked: false, exclusive: true }]
        ]
      )
      const record = yield* stored
      assert.strictEqual(storedAccess(record), fresh)
      assert.strictEqual(Redacted.value(Option.getOrThrow(Option.getOrThrow(record.tokens).refreshToken)), "rt-3")
    })
  )

  it.effect("the successor's refresh token is spent too: one refresh with it, then the failure, no second watch", () =>
    Effect.gen(function* () {
      const { session, store, log } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        rejected(401, "refresh_token_reused"),
        rejected(401, "refresh_token_reused")
      ])
      const fiber = yield* Effect.fork(session.accessToken)
      yield* TestClock.adjust(Duration.seconds(1))
      yield* store.save(codexRecord({ access: jwt(0, "stale"), refreshToken: "rt-stale" }))
      yield* TestClock.adjust(Duration.millis(100))
      const exit = yield* Fiber.poll(fiber)
      assert.isTrue(Option.isSome(exit), "done without watching again")
      const error = failureOf(Option.getOrThrow(exit))
      assert.instanceOf(error, RefreshError)
      assert.strictEqual(error.reason, "Reused")
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.refreshToken),
        ["rt-1", "rt-stale"]
      )
    })
  )

  it.effect("a record stored in the watch with the spent refresh token and an expired token is not adopted", () =>
    Effect.gen(function* () {
      const { session, store, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        rejected(401, "refresh_token_reused")
      ])
      const fiber = yield* Effect.fork(Effect.exit(session.accessToken))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* store.save(codexRecord({ access: jwt(0, "stale") }))
      yield* TestClock.adjust(Duration.seconds(9))
      const error = failureOf(yield* Fiber.join(fiber))
      assert.instanceOf(error, RefreshError)
      assert.strictEqual(error.reason, "Reused")
      assert.strictEqual(yield* refreshes, 1)
    })
  )
})

describe("AuthSession: locks", () => {
  it.effect("the refresh request holds the store's exclusive lock only; its save holds codex's lock too", () =>
    Effect.gen(function* () {
      const { session, log, saves } = yield* setup(Option.some(codexRecord({ access: jwt(0) })))
      yield* session.accessToken
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.held),
        [{ locked: false, exclusive: true }]
      )
      assert.deepStrictEqual(yield* saves, [{ locked: true, exclusive: true }])
    })
  )

  it.effect("two sessions on one store (two processes) that need a refresh at once send one request", () =>
    Effect.gen(function* () {
      const slowAnswer: Answer = (now, n) => Effect.as(Effect.sleep(Duration.seconds(3)), answer(3600)(now, n))
      const { session, makeSession, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        slowAnswer
      ])
      const other = yield* makeSession
      const first = yield* Effect.fork(token(session.accessToken))
      const second = yield* Effect.fork(token(other.accessToken))
      yield* TestClock.adjust(Duration.seconds(3))
      const tokens = [yield* Fiber.join(first), yield* Fiber.join(second)]
      assert.strictEqual(tokens[0], tokens[1])
      assert.notStrictEqual(tokens[0], jwt(0))
      assert.strictEqual(yield* refreshes, 1)
    })
  )

  it.effect("another program's refresh stored while ours was in flight wins: ours is not written", () =>
    Effect.gen(function* () {
      const codexToken = jwt(10_000, "codex")
      const { session, stored, saves } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        (now, n, other) =>
          Effect.as(
            Effect.orDie(other.save(codexRecord({ access: codexToken, refreshToken: "rt-codex", lastRefresh: now }))),
            answer(3600)(now, n)
          )
      ])
      assert.strictEqual(yield* token(session.accessToken), codexToken)
      assert.strictEqual(storedAccess(yield* stored), codexToken)
      assert.deepStrictEqual(yield* saves, [], "ours was not written")
    })
  )

  it.effect("a sign-out while the refresh was in flight stays a sign-out: nothing is written, NotLoggedIn", () =>
    Effect.gen(function* () {
      const { session, store, saves } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        (now, n, other) => Effect.as(Effect.orDie(other.remove), answer(3600)(now, n))
      ])
      assert.instanceOf(failureOf(yield* Effect.exit(session.accessToken)), NotLoggedIn)
      assert.isTrue(Option.isNone(yield* store.load))
      assert.deepStrictEqual(yield* saves, [])
    })
  )
})

describe("AuthSession: transient refresh errors", () => {
  it.effect("while the token is valid it is served, and the issuer is left alone for 1 s, then 2 s", () =>
    Effect.gen(function* () {
      const first = jwt(3600)
      const { session, log } = yield* setup(Option.some(codexRecord({ access: first })), [
        unavailable,
        rejected(500, "server_error"),
        unavailable
      ])
      yield* TestClock.adjust(Duration.seconds(3540))
      assert.strictEqual(yield* token(session.accessToken), first)
      yield* TestClock.adjust(Duration.millis(999))
      assert.strictEqual(yield* token(session.accessToken), first)
      assert.strictEqual((yield* log).length, 1)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* token(session.accessToken), first)
      yield* TestClock.adjust(Duration.millis(1_999))
      assert.strictEqual(yield* token(session.accessToken), first)
      assert.strictEqual((yield* log).length, 2)
      yield* TestClock.adjust(Duration.millis(1))
      assert.strictEqual(yield* token(session.accessToken), first)
      yield* TestClock.adjust(Duration.seconds(4))
      const second = yield* token(session.accessToken)
      assert.notStrictEqual(second, first)
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.at),
        [3_540_000, 3_541_000, 3_543_000, 3_547_000]
      )
    })
  )

  it.effect("the backoff follows refreshBackoff: doubling up to 5 min, a longer Retry-After honoured up to 5 min", () =>
    Effect.gen(function* () {
      const limited = (seconds: number) =>
        new DeviceAuthError({
          reason: "Unavailable",
          issuer: ISSUER,
          step: "refresh",
          status: 429,
          retryAfter: Duration.seconds(seconds)
        })
      // no exp: due once last_refresh is 8 days old, and usable all along
      const { session, log } = yield* setup(Option.some(codexRecord({ access: "opaque-access-token" })), [
        limited(90),
        ...Array.from({ length: 9 }, () => unavailable),
        limited(3600)
      ])
      yield* TestClock.adjust(Duration.days(8))
      assert.strictEqual(yield* token(session.accessToken), "opaque-access-token")
      for (const seconds of [90, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]) {
        const attempts = (yield* log).length
        yield* TestClock.adjust(Duration.millis(seconds * 1000 - 1))
        assert.strictEqual(yield* token(session.accessToken), "opaque-access-token")
        assert.strictEqual((yield* log).length, attempts, `no attempt before +${seconds} s`)
        yield* TestClock.adjust(Duration.millis(1))
        yield* session.accessToken
        assert.strictEqual((yield* log).length, attempts + 1, `an attempt at +${seconds} s`)
      }
      assert.notStrictEqual(yield* token(session.accessToken), "opaque-access-token")
    })
  )

  it.effect("once the token has expired, the call retries after 1 s, 2 s and 4 s, then fails", () =>
    Effect.gen(function* () {
      const { session, log } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [
        unavailable,
        unavailable,
        unavailable,
        unavailable
      ])
      const fiber = yield* Effect.fork(Effect.exit(session.accessToken))
      yield* TestClock.adjust(Duration.seconds(10))
      const error = failureOf(yield* Fiber.join(fiber))
      assert.instanceOf(error, DeviceAuthError)
      assert.strictEqual(error.message, unavailable.message)
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.at),
        [0, 1_000, 3_000, 7_000]
      )
    })
  )

  it.effect("callers waiting behind a failing refresh share its failure instead of retrying again", () =>
    Effect.gen(function* () {
      const { session, log } = yield* setup(
        Option.some(codexRecord({ access: jwt(0) })),
        Array.from({ length: 20 }, () => unavailable)
      )
      const fiber = yield* Effect.fork(
        Effect.all(
          Array.from({ length: 50 }, () => Effect.exit(session.accessToken)),
          { concurrency: "unbounded" }
        )
      )
      yield* TestClock.adjust(Duration.seconds(10))
      const exits = yield* Fiber.join(fiber)
      assert.isTrue(exits.every(Exit.isFailure))
      assert.strictEqual((yield* log).length, 4)
    })
  )

  it.effect("an expired token recovers when a retry succeeds", () =>
    Effect.gen(function* () {
      const { session, log } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [unavailable])
      const fiber = yield* Effect.fork(token(session.accessToken))
      yield* TestClock.adjust(Duration.seconds(1))
      const fresh = yield* Fiber.join(fiber)
      assert.notStrictEqual(fresh, jwt(0))
      assert.strictEqual((yield* log).length, 2)
    })
  )
})

describe("AuthSession: interruption", () => {
  it.effect("a caller going away interrupts the refresh request; nothing is saved and the next call refreshes", () =>
    Effect.gen(function* () {
      const interrupted = yield* Ref.make(false)
      const slowAnswer: Answer = (now, n) =>
        Effect.sleep(Duration.minutes(1)).pipe(
          Effect.as(answer(3600)(now, n)),
          Effect.onInterrupt(() => Ref.set(interrupted, true))
        )
      const { session, stored, log } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [slowAnswer])
      const fiber = yield* Effect.fork(session.accessToken)
      yield* TestClock.adjust(Duration.seconds(1))
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust(Duration.minutes(2))
      yield* Fiber.join(interrupting)
      assert.isTrue(yield* Ref.get(interrupted))
      assert.strictEqual(storedAccess(yield* stored), jwt(0))
      assert.notStrictEqual(yield* token(session.accessToken), jwt(0))
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.refreshToken),
        ["rt-1", "rt-1"]
      )
    })
  )

  it.effect("once the issuer answered, the rotated tokens are saved even if the caller goes away, then adopted", () =>
    Effect.gen(function* () {
      const { session, stored, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(0) })), [], {
        saveDelay: Duration.seconds(1)
      })
      const fiber = yield* Effect.fork(session.accessToken)
      yield* TestClock.adjust(Duration.millis(500))
      const interrupting = yield* Effect.fork(Fiber.interrupt(fiber))
      yield* TestClock.adjust(Duration.seconds(1))
      yield* Fiber.join(interrupting)
      const record = yield* stored
      assert.strictEqual(Redacted.value(Option.getOrThrow(Option.getOrThrow(record.tokens).refreshToken)), "rt-2")
      assert.strictEqual(yield* token(session.accessToken), storedAccess(record))
      assert.strictEqual(yield* refreshes, 1)
    })
  )
})

describe("AuthSession: other processes and sign-ins", () => {
  it.effect("adopts tokens another session stored, without a refresh, even inside their margin", () =>
    Effect.gen(function* () {
      const first = jwt(3600)
      const { session, makeSession, refreshes, log } = yield* setup(Option.some(codexRecord({ access: first })), [
        answer(100)
      ])
      const other = yield* makeSession
      assert.strictEqual(yield* token(session.accessToken), first)
      assert.strictEqual(yield* token(other.accessToken), first)
      yield* TestClock.adjust(Duration.seconds(3540))
      const refreshed = yield* token(other.accessToken)
      assert.strictEqual(yield* refreshes, 1)
      // the other session's token lives 100 s (margin 50 s): at 3600 s it is inside its margin but unexpired
      yield* TestClock.adjust(Duration.seconds(60))
      assert.strictEqual(yield* token(session.accessToken), refreshed)
      assert.strictEqual(yield* refreshes, 1)
      // the next call refreshes with the adopted refresh token, not the spent one
      yield* session.accessToken
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.refreshToken),
        ["rt-1", "rt-2"]
      )
    })
  )

  it.effect("token carries the expiry and the issuer client's headers, worked out once per record", () =>
    Effect.gen(function* () {
      const access = jwt(3600)
      const { session } = yield* setup(Option.some(codexRecord({ access })))
      const current = yield* session.token
      assert.strictEqual(Redacted.value(current.accessToken), access)
      assert.deepStrictEqual(Option.map(current.expiresAt, DateTime.toEpochMillis), Option.some(3600 * 1000))
      // codex's rule: a workspace sign-in's requests name the account
      assert.deepStrictEqual(current.headers, { "ChatGPT-Account-Id": "acct_old" })
      assert.strictEqual(yield* session.token, current)
      const key = yield* setup(Option.some(apiKeyAuth(Redacted.make("sk-test-123"))))
      const keyToken = yield* key.session.token
      assert.deepStrictEqual([keyToken.expiresAt, keyToken.headers], [Option.none(), {}])
    })
  )

  it.effect("refreshAfterRejection refreshes a rejected token once and adopts one that already changed", () =>
    Effect.gen(function* () {
      const first = jwt(3600)
      const { session, refreshes, log } = yield* setup(Option.some(codexRecord({ access: first })))
      assert.strictEqual(yield* token(session.accessToken), first)
      const second = yield* token(session.refreshAfterRejection(Redacted.make(first)))
      assert.notStrictEqual(second, first)
      assert.strictEqual(yield* refreshes, 1)
      // codex's refresh_reason for a token a server refused
      assert.deepStrictEqual(
        (yield* log).map((entry) => entry.reason),
        ["unauthorized_recovery"]
      )
      const results = yield* Effect.all(
        Array.from({ length: 20 }, () => token(session.refreshAfterRejection(Redacted.make(first)))),
        { concurrency: "unbounded" }
      )
      assert.deepStrictEqual(new Set(results), new Set([second]))
      assert.strictEqual(yield* token(session.accessToken), second)
      assert.strictEqual(yield* refreshes, 1)
    })
  )

  it.effect("an API-key sign-in hands out the key and never refreshes", () =>
    Effect.gen(function* () {
      const { session, refreshes } = yield* setup(Option.some(apiKeyAuth(Redacted.make("sk-proj-test-key"))))
      assert.strictEqual(yield* token(session.accessToken), "sk-proj-test-key")
      yield* TestClock.adjust(Duration.days(365))
      assert.strictEqual(yield* token(session.accessToken), "sk-proj-test-key")
      assert.strictEqual(yield* refreshes, 0)
      const account = yield* session.account
      assert.strictEqual(account.method, "apikey")
      assert.strictEqual(yield* session.claims, emptyClaims)
    })
  )

  it.effect("nothing stored → NotLoggedIn; signing out while a refresh is due → NotLoggedIn", () =>
    Effect.gen(function* () {
      const empty = yield* setup(Option.none())
      assert.instanceOf(failureOf(yield* Effect.exit(empty.session.accessToken)), NotLoggedIn)
      assert.instanceOf(failureOf(yield* Effect.exit(empty.session.account)), NotLoggedIn)

      const { session, store, refreshes } = yield* setup(Option.some(codexRecord({ access: jwt(3600) })))
      yield* session.accessToken
      yield* store.remove
      yield* TestClock.adjust(Duration.hours(1))
      assert.instanceOf(failureOf(yield* Effect.exit(session.accessToken)), NotLoggedIn)
      assert.strictEqual(yield* refreshes, 0)
    })
  )

  it.effect("claims and account describe the stored sign-in", () =>
    Effect.gen(function* () {
      const origin = new SignInOrigin({
        dialect: "codex",
        issuer: "https://auth.example",
        clientId: "app_x",
        scope: Option.none()
      })
      const { session } = yield* setup(Option.some(codexRecord({ access: jwt(3600), origin })))
      const claims = yield* session.claims
      assert.deepStrictEqual(claims.email, Option.some("dev@example.com"))
      assert.deepStrictEqual(claims.plan, Option.some("plus"))
      const account = yield* session.account
      assert.deepStrictEqual(account, {
        method: "chatgpt",
        email: Option.some("dev@example.com"),
        plan: Option.some("plus"),
        accountId: Option.some("acct_old"),
        issuer: "https://auth.example",
        dialect: "codex"
      })
    })
  )
})
