import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Option, Random, Redacted, Ref, TestClock } from "effect"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { DeviceAuthError, StoreError } from "../src/domain/Errors.js"
import { LoginEvent } from "../src/domain/LoginEvent.js"
import { eventLine, REPLACED_NOT_REVOKED } from "../src/cli/render.js"
import { apiKeyAuth, StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { IssuerClient } from "../src/services/IssuerClient.js"
import { fixed } from "../src/services/IssuerResolver.js"
import { LoginFlow, PollResult } from "../src/services/LoginFlow.js"
import { login } from "../src/services/login.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import * as TestPkce from "../src/testing/TestPkce.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import { tempDir } from "./support/tmp.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const issuer = "https://issuer.test"

const unavailable = (status: number, retryAfter?: Duration.DurationInput) =>
  new DeviceAuthError({
    reason: "Unavailable",
    issuer,
    step: "poll",
    status,
    ...(retryAfter === undefined ? {} : { retryAfter: Duration.decode(retryAfter) })
  })

/** What a test changes of the login's surroundings: config.toml's rules, the store, a revocation that fails. */
interface StartOptions extends ScriptedIssuer.ScriptedIssuerOptions {
  readonly forcedWorkspace?: string
  readonly forcedLoginMethod?: WorkspacePolicy.ForcedLoginMethod
  readonly store?: CredentialStore["Type"]
  readonly revokeFails?: boolean
  /** Runs as each revocation is sent. */
  readonly onRevoke?: Effect.Effect<void>
}

/** Runs a login against a scripted issuer and an in-memory store (or `store`); returns the fiber and what to inspect. */
const start = (options: StartOptions = {}) =>
  Effect.gen(function* () {
    const pkce = yield* TestPkce.make
    const scripted = yield* ScriptedIssuer.make({ issuer, pkce: pkce.service, ...options })
    const store = options.store ?? (yield* MemoryStore.make())
    const events = yield* Ref.make<ReadonlyArray<LoginEvent>>([])
    const revoked = yield* Ref.make<ReadonlyArray<string>>([])
    const client: IssuerClient["Type"] = {
      ...scripted.client,
      revoke: (token, hint) =>
        Effect.zipRight(
          Effect.zipRight(
            Ref.update(revoked, (all) => [...all, Redacted.value(token)]),
            options.onRevoke ?? Effect.void
          ),
          options.revokeFails ? Effect.fail(unavailable(503)) : scripted.client.revoke(token, hint)
        )
    }
    const layer = Layer.mergeAll(
      Layer.succeed(LoginFlow, scripted.flow),
      Layer.provide(fixed, Layer.succeed(IssuerClient, client)),
      Layer.succeed(CredentialStore, store),
      WorkspacePolicy.layer(
        Option.fromNullable(options.forcedWorkspace),
        Option.fromNullable(options.forcedLoginMethod)
      )
    )
    const fiber = yield* login({ onEvent: (event) => Ref.update(events, (all) => [...all, event]) }).pipe(
      Effect.provide(layer),
      // jitter ×1 exactly, so every retry lands on its nominal instant
      Effect.withRandom(Random.fixed([0.5])),
      Effect.fork
    )
    yield* Effect.yieldNow()
    return { fiber, scripted, store, pkce, events: Ref.get(events), revoked: Ref.get(revoked) }
  })

const seconds = (...values: ReadonlyArray<number>) => values.map((s) => s * 1000)

describe("login polling on TestClock", () => {
  it.effect("pending ×3 then approved: exactly 4 polls at 0, i, 2i, 3i", () =>
    Effect.gen(function* () {
      const { fiber, scripted, store } = yield* start({
        polls: [PollResult.Pending(), PollResult.Pending(), PollResult.Pending(), ScriptedIssuer.approvedPoll()]
      })
      yield* TestClock.adjust("15 seconds")
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 5, 10, 15))
      assert.deepStrictEqual(Option.getOrNull(result.claims.email), "dev@example.com")
      assert.isTrue(Option.isSome(yield* store.load))
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* scripted.calls).poll, 4, "never polls again after success")
    })
  )

  it.effect("uses the server's interval", () =>
    Effect.gen(function* () {
      const { fiber, scripted } = yield* start({
        interval: "7 seconds",
        polls: [PollResult.Pending(), PollResult.Pending(), ScriptedIssuer.approvedPoll()]
      })
      yield* TestClock.adjust("14 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 7, 14))
    })
  )

  it.effect("slow_down adds 5 s for the rest of the login, cumulatively", () =>
    Effect.gen(function* () {
      const { events, fiber, scripted } = yield* start({
        polls: [
          PollResult.SlowDown(),
          PollResult.Pending(),
          PollResult.SlowDown(),
          PollResult.Pending(),
          ScriptedIssuer.approvedPoll()
        ]
      })
      yield* TestClock.adjust("60 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 10, 20, 35, 50))
      const slowed = (yield* events).flatMap((e) => (e._tag === "SlowedDown" ? [Duration.toSeconds(e.interval)] : []))
      assert.deepStrictEqual(slowed, [10, 15])
    })
  )

  it.effect("times out exactly 15 minutes after the first poll", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* start({})
      yield* TestClock.adjust(Duration.millis(15 * 60_000 - 1))
      assert.isNull(fiber.unsafePoll(), "still waiting at 14:59.999")
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.await(fiber)
      assert.isTrue(Exit.isFailure(exit))
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "DeviceAuthError")
      assert.strictEqual(error._tag === "DeviceAuthError" && error.reason, "TimedOut")
      assert.include(error.message, "timed out after 15m")
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("an earlier expires_at ends the wait as Expired, exactly then", () =>
    Effect.gen(function* () {
      const { fiber } = yield* start({ expiresIn: "10 minutes" })
      yield* TestClock.adjust(Duration.millis(10 * 60_000 - 1))
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust("1 millis")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag === "DeviceAuthError" && error.reason, "Expired")
    })
  )

  it.effect("a transient failure backs off; Retry-After is honoured", () =>
    Effect.gen(function* () {
      const { events, fiber, scripted } = yield* start({
        polls: [
          unavailable(503),
          unavailable(503),
          unavailable(429, "7 seconds"),
          PollResult.Pending(),
          ScriptedIssuer.approvedPoll()
        ]
      })
      yield* TestClock.adjust("60 seconds")
      yield* Fiber.join(fiber)
      // 503 → wait the interval (5 s), 503 again → 10 s, 429 → Retry-After 7 s, pending → 5 s.
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 5, 15, 22, 27))
      const retries = (yield* events).filter((e) => e._tag === "Retrying").length
      assert.strictEqual(retries, 3)
    })
  )

  it.effect("a non-transient failure ends the login with the server's message", () =>
    Effect.gen(function* () {
      const { events, fiber, store } = yield* start({
        polls: [
          PollResult.Pending(),
          new DeviceAuthError({ reason: "Rejected", issuer, step: "poll", status: 500, detail: "database on fire" })
        ]
      })
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.include(error.message, "database on fire")
      assert.include(error.message, "500")
      assert.isFalse(
        (yield* events).some((e) => e._tag === "Retrying"),
        "no retry announced for a failure that is not retried"
      )
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("interrupting mid-poll writes nothing and stops polling", () =>
    Effect.gen(function* () {
      const { fiber, scripted, store } = yield* start({ polls: [PollResult.Pending(), "hang"] })
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 hour")
      const calls = yield* scripted.calls
      assert.strictEqual(calls.poll, 2)
      assert.strictEqual(calls.exchange, 0)
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("an approval whose PKCE pair does not match fails at the poll step: no exchange, nothing stored", () =>
    Effect.gen(function* () {
      const { fiber, pkce, scripted, store } = yield* start({
        polls: [ScriptedIssuer.approvedPoll({ mismatchedPkce: true })]
      })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "DeviceAuthError")
      assert.strictEqual(error._tag === "DeviceAuthError" && error.reason, "Malformed")
      assert.strictEqual(error._tag === "DeviceAuthError" && error.step, "poll")
      assert.include(error.message, "the issuer's PKCE values do not match")
      assert.strictEqual((yield* scripted.calls).exchange, 0)
      assert.strictEqual(yield* pkce.checked, 1)
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("a matching PKCE pair is checked through the Pkce service before the exchange", () =>
    Effect.gen(function* () {
      const { fiber, pkce, scripted } = yield* start({ polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      assert.strictEqual(yield* pkce.checked, 1)
      assert.strictEqual((yield* scripted.calls).exchange, 1)
    })
  )

  it.effect("reports progress in order", () =>
    Effect.gen(function* () {
      const { events, fiber } = yield* start({ polls: [PollResult.Pending(), ScriptedIssuer.approvedPoll()] })
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(
        (yield* events).map((e) => e._tag),
        ["CodeIssued", "Waiting", "Approved", "LoggedIn"]
      )
    })
  )
})

describe("workspace policy", () => {
  it.effect("the forced workspace is accepted and saved", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* start({ forcedWorkspace: " acct_test ", polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      const saved = yield* store.load
      assert.strictEqual(
        Option.getOrNull(Option.flatMap(saved, (auth) => Option.flatMap(auth.tokens, (t) => t.accountId))),
        "acct_test"
      )
    })
  )

  it.effect("another workspace is refused and nothing is written", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* start({ forcedWorkspace: "acct_other", polls: [ScriptedIssuer.approvedPoll()] })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error.message, "Login is restricted to workspace id(s) acct_other.")
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect("a token without the account claim is refused and nothing is written", () =>
    Effect.gen(function* () {
      const { fiber, store } = yield* start({
        forcedWorkspace: "acct_test",
        claims: ScriptedIssuer.chatgptClaims({ accountId: null }),
        polls: [ScriptedIssuer.approvedPoll()]
      })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(
        error.message,
        "Login is restricted to a specific workspace, but the token did not include a chatgpt_account_id claim."
      )
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )
})

describe("before a code is asked for", () => {
  it.effect('forced_login_method = "api": the ChatGPT login is refused with codex\'s message, no request made', () =>
    Effect.gen(function* () {
      const { fiber, scripted, store } = yield* start({
        forcedLoginMethod: "api",
        polls: [ScriptedIssuer.approvedPoll()]
      })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "LoginMethodError")
      assert.strictEqual(error.message, "ChatGPT login is disabled. Use API key login instead.")
      assert.strictEqual((yield* scripted.calls).start, 0)
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.effect('forced_login_method = "chatgpt" lets the ChatGPT login through; "api" lets an RFC 8628 one through', () =>
    Effect.gen(function* () {
      const chatgpt = yield* start({ forcedLoginMethod: "chatgpt", polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(chatgpt.fiber)
      assert.isTrue(Option.isSome(yield* chatgpt.store.load))
      const oidc = yield* start({
        dialect: "rfc8628",
        forcedLoginMethod: "api",
        polls: [ScriptedIssuer.approvedPoll()]
      })
      yield* Fiber.join(oidc.fiber)
      assert.isTrue(Option.isSome(yield* oidc.store.load))
    })
  )

  it.scoped("a store that cannot save (its directory is under a regular file) fails the login, no request made", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      writeFileSync(join(dir, "file"), "")
      const store = yield* FileStore.make(FileStore.authJsonPath(join(dir, "file", "codex"))).pipe(
        Effect.provide(Platform)
      )
      const { fiber, scripted } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag, "StoreError")
      assert.strictEqual(error._tag === "StoreError" && error.reason, "Io")
      assert.include(error.message, join(dir, "file", "codex"))
      assert.strictEqual((yield* scripted.calls).start, 0)
    })
  )
})

describe("after the approval", () => {
  const failingSave = Effect.map(MemoryStore.make(), (memory) => ({
    ...memory,
    save: () => Effect.fail(new StoreError({ reason: "Io", path: "/codex/auth.json", detail: "disk full" }))
  }))

  it.effect("a save that fails revokes the issued tokens, and the error says so", () =>
    Effect.gen(function* () {
      const { fiber, scripted } = yield* start({ store: yield* failingSave, polls: [ScriptedIssuer.approvedPoll()] })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag === "StoreError" && error.afterApproval, "Revoked")
      assert.include(error.message, "cannot access /codex/auth.json: disk full")
      assert.include(error.message, "approved but could not be saved, so the tokens issued for it were revoked")
      assert.strictEqual((yield* scripted.calls).revoke, 1)
    })
  )

  it.effect(
    "a save that fails on a store that keeps records: the tokens are kept, not revoked, and the error says where",
    () =>
      Effect.gen(function* () {
        const kept = yield* Ref.make<ReadonlyArray<StoredAuth>>([])
        const store = {
          ...(yield* failingSave),
          keep: (auth: StoredAuth) =>
            Effect.as(
              Ref.update(kept, (all) => [...all, auth]),
              Option.some("/codex/.auth.json.tmp-1")
            )
        }
        const { fiber, scripted } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
        const error = yield* Effect.flip(Fiber.join(fiber))
        assert.strictEqual(error._tag === "StoreError" && error.keptIn, "/codex/.auth.json.tmp-1")
        assert.strictEqual(error._tag === "StoreError" && error.afterApproval, undefined)
        assert.include(error.message, "cannot access /codex/auth.json: disk full")
        assert.include(error.message, "The new sign-in is kept in /codex/.auth.json.tmp-1")
        assert.strictEqual((yield* scripted.calls).revoke, 0)
        const [record] = yield* Ref.get(kept)
        assert.isTrue(record !== undefined && Option.isSome(Option.flatMap(record.tokens, (t) => t.refreshToken)))
      })
  )

  it.effect("a revocation that fails too is said so", () =>
    Effect.gen(function* () {
      const { fiber } = yield* start({
        store: yield* failingSave,
        revokeFails: true,
        polls: [ScriptedIssuer.approvedPoll()]
      })
      const error = yield* Effect.flip(Fiber.join(fiber))
      assert.strictEqual(error._tag === "StoreError" && error.afterApproval, "NotRevoked")
      assert.include(error.message, "could not be revoked")
    })
  )

  it.scoped("an unreadable auth.json is announced at the start and moved aside, intact, once the login succeeds", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const authPath = FileStore.authJsonPath(dir)
      writeFileSync(authPath, `{"tokens": 5`, { mode: 0o600 })
      const store = yield* FileStore.make(authPath).pipe(Effect.provide(Platform))
      const { events, fiber } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      const all = yield* events
      assert.deepStrictEqual(
        all.map((e) => e._tag),
        ["StoreUnreadable", "CodeIssued", "Approved", "StoreSetAside", "LoggedIn"]
      )
      const keptAs = `${authPath}.unreadable-1970-01-01T00-00-00.000Z`
      assert.deepStrictEqual(all[3], LoginEvent.StoreSetAside({ keptAs }))
      assert.strictEqual(readFileSync(keptAs, "utf8"), `{"tokens": 5`)
      assert.strictEqual(statSync(keptAs).mode & 0o777, 0o600)
      assert.strictEqual(JSON.parse(readFileSync(authPath, "utf8")).auth_mode, "chatgpt")
    })
  )
})

/** A stored ChatGPT sign-in holding `refreshToken` (none: only its access token). */
const storedSignIn = (refreshToken: string | null) =>
  new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.none(),
        accessToken: Redacted.make("at_old"),
        refreshToken: Option.map(Option.fromNullable(refreshToken), Redacted.make),
        accountId: Option.some("acct_test"),
        loginOwnerId: Option.none(),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.none(),
    origin: Option.none(),
    extra: []
  })

const storedRefreshToken = (auth: Option.Option<StoredAuth>) =>
  Option.getOrNull(
    Option.flatMap(
      Option.flatMap(auth, (a) => a.tokens),
      (t) => Option.map(t.refreshToken, Redacted.value)
    )
  )

describe("a login that replaces a stored sign-in", () => {
  it.effect("revokes the replaced refresh token once the new sign-in is stored, and says so", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make(Option.some(storedSignIn("rt_old")))
      const { events, fiber, revoked } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* revoked, ["rt_old"])
      assert.strictEqual(storedRefreshToken(yield* store.load), "rt_test_1")
      assert.deepStrictEqual(
        (yield* events).map((e) => e._tag),
        ["CodeIssued", "Approved", "ReplacedRevoked", "LoggedIn"]
      )
      assert.deepStrictEqual((yield* events)[2], LoginEvent.ReplacedRevoked({ revoked: true }))
    })
  )

  it.effect("without a refresh token, the replaced access token is revoked", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make(Option.some(storedSignIn(null)))
      const { fiber, revoked } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* revoked, ["at_old"])
    })
  )

  it.effect("a revocation that fails leaves the login successful and is reported", () =>
    Effect.gen(function* () {
      const store = yield* MemoryStore.make(Option.some(storedSignIn("rt_old")))
      const { events, fiber, scripted } = yield* start({
        store,
        revokeFails: true,
        polls: [ScriptedIssuer.approvedPoll()]
      })
      yield* Fiber.join(fiber)
      assert.strictEqual(storedRefreshToken(yield* store.load), "rt_test_1")
      assert.strictEqual((yield* scripted.calls).revoke, 0)
      assert.deepStrictEqual(
        (yield* events).filter((e) => e._tag === "ReplacedRevoked"),
        [LoginEvent.ReplacedRevoked({ revoked: false })]
      )
      // the CLI's one warning line for it, and none when the revocation went through
      assert.deepStrictEqual(
        eventLine(LoginEvent.ReplacedRevoked({ revoked: false })),
        Option.some(REPLACED_NOT_REVOKED)
      )
      assert.isTrue(Option.isNone(eventLine(LoginEvent.ReplacedRevoked({ revoked: true }))))
    })
  )

  it.effect("the revocation is sent outside the store's lock", () =>
    Effect.gen(function* () {
      const memory = yield* MemoryStore.make(Option.some(storedSignIn("rt_old")))
      const held = yield* Ref.make(false)
      const heldAtRevoke = yield* Ref.make<ReadonlyArray<boolean>>([])
      const store: CredentialStore["Type"] = {
        ...memory,
        locked: (self) =>
          memory.locked(
            Effect.acquireUseRelease(
              Ref.set(held, true),
              () => self,
              () => Ref.set(held, false)
            )
          )
      }
      const onRevoke = Effect.flatMap(Ref.get(held), (locked) => Ref.update(heldAtRevoke, (all) => [...all, locked]))
      const { fiber } = yield* start({ store, onRevoke, polls: [ScriptedIssuer.approvedPoll()] })
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* Ref.get(heldAtRevoke), [false])
    })
  )

  it.effect("an API-key record, a record holding the same refresh token, or none: nothing to revoke", () =>
    Effect.gen(function* () {
      for (const initial of [
        Option.some(apiKeyAuth(Redacted.make("sk-test-123"))),
        Option.some(storedSignIn("rt_test_1")),
        Option.none<StoredAuth>()
      ]) {
        const store = yield* MemoryStore.make(initial)
        const { events, fiber, scripted } = yield* start({ store, polls: [ScriptedIssuer.approvedPoll()] })
        yield* Fiber.join(fiber)
        assert.strictEqual((yield* scripted.calls).revoke, 0)
        assert.isFalse((yield* events).some((e) => e._tag === "ReplacedRevoked"))
        assert.strictEqual(storedRefreshToken(yield* store.load), "rt_test_1")
      }
    })
  )
})
