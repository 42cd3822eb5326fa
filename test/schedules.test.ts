import { assert, describe, it } from "@effect/vitest"
import { HttpClient } from "@effect/platform"
import {
  Cause,
  Chunk,
  Clock,
  DateTime,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Random,
  Ref,
  Schedule,
  TestClock
} from "effect"
import { DeviceAuthError } from "../src/domain/Errors.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import type { Pkce } from "../src/services/Pkce.js"
import { PollResult } from "../src/services/LoginFlow.js"
import { exchangeCodeForTokens } from "../src/services/exchangeCodeForTokens.js"
import { pollForAuthorization } from "../src/services/pollForAuthorization.js"
import { requestDeviceCode } from "../src/services/requestDeviceCode.js"
import {
  countdownTick,
  innerLockBound,
  lockWait,
  outerLockBound,
  pollSchedule,
  refreshBackoff,
  refreshBound,
  refreshLockBound,
  refreshLockWait,
  retryAfterCap,
  transientRetry,
  transientDelayCap
} from "../src/services/schedules.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import { approvedPoll } from "../src/testing/ScriptedIssuer.js"
import * as TestPkce from "../src/testing/TestPkce.js"
import { fakeClient, json, type Reply } from "./support/fakeHttp.js"

const issuer = "https://issuer.test"

const unavailable = (retryAfter?: Duration.DurationInput) =>
  new DeviceAuthError({
    reason: "Unavailable",
    issuer,
    step: "usercode",
    status: 503,
    ...(retryAfter === undefined ? {} : { retryAfter: Duration.decode(retryAfter) })
  })

/** Jitter ×1 exactly: every jittered delay lands on its nominal value. */
const noJitter = Effect.withRandom(Random.fixed([0.5]))

/**
 * Runs `answers` in order as the results of one effect, repeated or retried by the caller; records the Clock time of
 * each run.
 */
const scripted = <A>(answers: ReadonlyArray<A | DeviceAuthError>) =>
  Effect.gen(function* () {
    const queue = yield* Ref.make(answers)
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const run = Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      yield* Ref.update(times, (all) => [...all, now])
      const next = yield* Ref.modify(queue, (all) => [all[0], all.slice(1)] as const)
      if (next === undefined) return yield* Effect.dieMessage("script exhausted")
      if (next instanceof DeviceAuthError) return yield* next
      return next
    })
    return { run, times: Ref.get(times) }
  })

const seconds = (...values: ReadonlyArray<number>) => values.map((s) => s * 1000)

describe("pollSchedule", () => {
  it.effect("polls at once, then every interval: 0, 5, 10 s", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<PollResult>([PollResult.Pending(), PollResult.Pending(), approvedPoll()])
      const fiber = yield* Effect.fork(Effect.repeat(run, pollSchedule(Duration.seconds(5))))
      yield* TestClock.adjust("10 seconds")
      const last = yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* times, seconds(0, 5, 10))
      assert.strictEqual(last.result._tag, "Approved")
      assert.strictEqual(last.polls, 3)
    })
  )

  it.effect("slow_down moves the very next poll to +10 s and keeps it there", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<PollResult>([
        PollResult.Pending(),
        PollResult.SlowDown(),
        PollResult.Pending(),
        PollResult.Pending(),
        approvedPoll()
      ])
      const fiber = yield* Effect.fork(Effect.repeat(run, pollSchedule(Duration.seconds(5))))
      yield* TestClock.adjust("35 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* times, seconds(0, 5, 15, 25, 35))
    })
  )

  it.effect("never polls faster than once a second", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<PollResult>([PollResult.Pending(), approvedPoll()])
      const fiber = yield* Effect.fork(Effect.repeat(run, pollSchedule(Duration.millis(10))))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* times, seconds(0, 1))
    })
  )
})

describe("countdownTick", () => {
  it.effect("runs as the countdown turns each second, the first after a wait; every second past the deadline", () =>
    Effect.gen(function* () {
      const deadline = DateTime.unsafeMake(2_250)
      const times = yield* Ref.make<ReadonlyArray<number>>([])
      const record = Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(times, (all) => [...all, now]))
      yield* TestClock.adjust("100 millis")
      const fiber = yield* Effect.fork(Effect.schedule(record, countdownTick(deadline)))
      yield* TestClock.adjust("4900 millis")
      yield* Fiber.interrupt(fiber)
      assert.deepStrictEqual(yield* times, [250, 1_250, 2_250, 3_250, 4_250])
    })
  )
})

describe("transientRetry", () => {
  it.effect("backs off 1 s, 2 s, 4 s and gives up after three retries", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<string>([unavailable(), unavailable(), unavailable(), unavailable()])
      const fiber = yield* Effect.fork(Effect.exit(Effect.retry(run, transientRetry({ retries: 3 }))).pipe(noJitter))
      yield* TestClock.adjust("1 minute")
      const exit = yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* times, seconds(0, 1, 3, 7))
      assert.isTrue(Exit.isFailure(exit))
    })
  )

  it.effect("jitters each delay within ×0.8–1.2 and caps it at 30 s", () =>
    Effect.gen(function* () {
      const steps = yield* Schedule.run(
        transientRetry(),
        0,
        Array.from({ length: 8 }, () => unavailable())
      )
      const delays = Chunk.toReadonlyArray(steps).map((step) => Duration.toMillis(step.delay))
      delays.forEach((delay, i) => {
        const nominal = Math.min(1000 * 2 ** i, Duration.toMillis(transientDelayCap) / 0.8)
        assert.isAtLeast(delay, Math.min(nominal * 0.8, Duration.toMillis(transientDelayCap)))
        assert.isAtMost(delay, Math.min(nominal * 1.2, Duration.toMillis(transientDelayCap)))
      })
      assert.strictEqual(delays.at(-1), Duration.toMillis(transientDelayCap))
    })
  )

  it.effect("a 429 with Retry-After: 3600 is retried at +60 s, the cap", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<string>([unavailable("3600 seconds"), "ok"])
      const fiber = yield* Effect.fork(Effect.retry(run, transientRetry({ retries: 3 })))
      yield* TestClock.adjust(Duration.millis(Duration.toMillis(retryAfterCap) - 1))
      assert.deepStrictEqual(yield* times, [0], "not before 60 s")
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "ok")
      assert.deepStrictEqual(yield* times, seconds(0, 60))
    })
  )

  it.effect("a Retry-After under the base waits the base", () =>
    Effect.gen(function* () {
      const { run, times } = yield* scripted<string>([unavailable("0 seconds"), "ok"])
      const fiber = yield* Effect.fork(Effect.retry(run, transientRetry({ base: "5 seconds" })))
      yield* TestClock.adjust("5 seconds")
      yield* Fiber.join(fiber)
      assert.deepStrictEqual(yield* times, seconds(0, 5))
    })
  )

  it.effect("a 4xx (Rejected) or an unreadable answer fails at once, with no wait", () =>
    Effect.gen(function* () {
      for (const reason of ["Rejected", "Malformed", "Misconfigured"] as const) {
        const error = new DeviceAuthError({ reason, issuer, step: "usercode", status: 400 })
        const { run, times } = yield* scripted<string>([error, "ok"])
        const exit = yield* Effect.exit(Effect.retry(run, transientRetry()))
        assert.deepStrictEqual(exit, Exit.fail(error))
        assert.deepStrictEqual(yield* times, [0])
      }
      assert.strictEqual(Chunk.size(yield* TestClock.sleeps()), 0)
    })
  )
})

describe("unreadablePollRetry through pollForAuthorization", () => {
  const unreadable = new DeviceAuthError({
    reason: "Malformed",
    issuer,
    step: "poll",
    detail: "the body is not JSON"
  })
  const pollWith = (polls: ReadonlyArray<ScriptedIssuer.ScriptedPoll>) =>
    Effect.gen(function* () {
      const scripted = yield* ScriptedIssuer.make({ issuer, polls })
      const code = yield* Effect.provide(requestDeviceCode(), scripted.layer)
      const fiber = yield* Effect.fork(
        Effect.exit(Effect.provide(pollForAuthorization(code), scripted.layer).pipe(noJitter))
      )
      return { fiber, scripted }
    })

  it.effect("an unreadable answer twice in a row is retried at the interval; the approval still comes", () =>
    Effect.gen(function* () {
      const { fiber, scripted } = yield* pollWith([unreadable, unreadable, approvedPoll()])
      yield* TestClock.adjust("10 seconds")
      const exit = yield* Fiber.join(fiber)
      assert.isTrue(Exit.isSuccess(exit))
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 5, 10))
    })
  )

  it.effect("the fourth unreadable answer in a row ends the login Malformed", () =>
    Effect.gen(function* () {
      const { fiber, scripted } = yield* pollWith([unreadable, unreadable, unreadable, unreadable, approvedPoll()])
      yield* TestClock.adjust("15 seconds")
      const exit = yield* Fiber.join(fiber)
      const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
      assert.strictEqual(Option.getOrUndefined(failure)?.reason, "Malformed")
      assert.deepStrictEqual(yield* scripted.pollTimes, seconds(0, 5, 10, 15))
    })
  )

  it.effect("a pending answer in between starts the count again", () =>
    Effect.gen(function* () {
      const { fiber } = yield* pollWith([
        unreadable,
        unreadable,
        unreadable,
        PollResult.Pending(),
        unreadable,
        unreadable,
        unreadable,
        approvedPoll()
      ])
      yield* TestClock.adjust("35 seconds")
      assert.isTrue(Exit.isSuccess(yield* Fiber.join(fiber)))
    })
  )
})

describe("refreshBackoff", () => {
  it.effect("1 s doubling to 5 min; a longer Retry-After wins up to 5 min", () =>
    Effect.gen(function* () {
      const plain = yield* Schedule.run(
        refreshBackoff,
        0,
        Array.from({ length: 11 }, () => unavailable())
      )
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(plain).map((step) => Duration.toSeconds(step.delay)),
        [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
      )
      const told = yield* Schedule.run(refreshBackoff, 0, [unavailable("30 seconds"), unavailable("2 hours")])
      assert.deepStrictEqual(
        Chunk.toReadonlyArray(told).map((step) => Duration.toSeconds(step.delay)),
        [30, 300]
      )
    })
  )
})

describe("lockWait, refreshLockWait", () => {
  it.effect("lockWait tries again every 25–50 ms", () =>
    Effect.gen(function* () {
      const delays = yield* Schedule.run(
        Schedule.delays(lockWait),
        0,
        Array.from({ length: 50 }, () => undefined)
      )
      for (const delay of Chunk.toReadonlyArray(delays)) {
        assert.isAtLeast(Duration.toMillis(delay), 25)
        assert.isAtMost(Duration.toMillis(delay), 50)
      }
    })
  )

  it.effect(
    "refreshLockWait tries again every 50–100 ms, for at least as long as a refresh and its write may take",
    () =>
      Effect.gen(function* () {
        const delays = yield* Schedule.run(
          Schedule.delays(refreshLockWait),
          0,
          Array.from({ length: 50 }, () => undefined)
        )
        for (const delay of Chunk.toReadonlyArray(delays)) {
          assert.isAtLeast(Duration.toMillis(delay), 50)
          assert.isAtMost(Duration.toMillis(delay), 100)
        }
        const holderAtMost = Duration.sum(refreshBound, Duration.sum(outerLockBound, innerLockBound))
        assert.isTrue(Duration.greaterThanOrEqualTo(refreshLockBound, holderAtMost))
      })
  )
})

/** The Codex dialect over a fake HttpClient, with a log of the Clock time of each request to `path`. */
const codexOver = (
  reply: (url: string) => Reply | "never",
  options: { readonly issuer?: string; readonly pkce?: Layer.Layer<Pkce> } = {}
) =>
  Effect.gen(function* () {
    const fake = fakeClient((request) => reply(request.url))
    const times: Array<number> = []
    const client = HttpClient.transform(fake.client, (response) =>
      Effect.zipRight(
        Effect.map(Clock.currentTimeMillis, (t) => void times.push(t)),
        response
      )
    )
    const layer = CodexIssuer.layer({ issuer: options.issuer ?? issuer }).pipe(
      Layer.provide(Layer.merge(Layer.succeed(HttpClient.HttpClient, client), options.pkce ?? TestPkce.layer))
    )
    return { layer, requests: fake.requests, times }
  })

const issued = json(200, { device_auth_id: "deviceauth_1", user_code: "ABCD-EFGHJ", interval: "5" })

/** Runs a stage that keeps failing transiently: still going at 1:59.999, failed at 2:00 exactly. */
const failsAtTwoMinutes = <A>(stage: Effect.Effect<A, DeviceAuthError>) =>
  Effect.gen(function* () {
    const fiber = yield* Effect.fork(Effect.flip(stage))
    yield* TestClock.adjust(Duration.millis(120_000 - 1))
    assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still trying at 1:59.999")
    yield* TestClock.adjust("1 millis")
    return yield* Fiber.join(fiber)
  })

describe("stage bounds through the library", () => {
  it.effect("an issuer URL that cannot be encoded fails at once: Misconfigured, no request, no sleep", () =>
    Effect.gen(function* () {
      const { layer, requests } = yield* codexOver(() => issued, { issuer: "http://exa mple" })
      // the TestClock never moves here: a scheduled retry would sleep forever and the test would time out
      const failure = yield* Effect.flip(Effect.provide(requestDeviceCode(), layer))
      assert.strictEqual(yield* Clock.currentTimeMillis, 0)
      assert.strictEqual(failure.reason, "Misconfigured")
      assert.include(failure.message, "not a valid URL")
      assert.strictEqual(requests.length, 0)
    })
  )

  it.effect("the device-code request honours a 429's Retry-After: 3600 only up to 60 s", () =>
    Effect.gen(function* () {
      let answered = 0
      const { layer, times } = yield* codexOver(() =>
        answered++ === 0 ? json(429, { error: "slow down" }, { "retry-after": "3600" }) : issued
      )
      const fiber = yield* Effect.fork(Effect.provide(requestDeviceCode(), layer))
      yield* TestClock.adjust("60 seconds")
      const code = yield* Fiber.join(fiber)
      assert.strictEqual(code.userCode, "ABCD-EFGHJ")
      assert.deepStrictEqual(times, seconds(0, 60))
    })
  )

  it.effect("the device-code request gives up after 2 minutes in all, retries included", () =>
    Effect.gen(function* () {
      const { layer, times } = yield* codexOver(() => "never")
      const error = yield* failsAtTwoMinutes(Effect.provide(requestDeviceCode(), layer).pipe(noJitter))
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.message, "within 2m, retries included")
      // 30 s per request; 1 s, 2 s between them
      assert.deepStrictEqual(times, seconds(0, 31, 63, 97))
    })
  )

  it.effect("the exchange gives up after 2 minutes in all, retries included", () =>
    Effect.gen(function* () {
      const { layer } = yield* codexOver(() => json(503, { error: "busy" }, { "retry-after": "50" }))
      const error = yield* failsAtTwoMinutes(Effect.provide(exchangeCodeForTokens(grantOf(approvedPoll())), layer))
      assert.strictEqual(error.step, "exchange")
      assert.include(error.message, "within 2m, retries included")
    })
  )

  it.effect("a PKCE pair that does not match fails before the exchange: Malformed at the poll, no request", () =>
    Effect.gen(function* () {
      const pkce = yield* TestPkce.make
      const { layer, requests } = yield* codexOver(() => json(200, {}), { pkce: pkce.layer })
      const error = yield* Effect.flip(
        exchangeCodeForTokens(grantOf(approvedPoll({ mismatchedPkce: true }))).pipe(Effect.provide(layer))
      )
      assert.strictEqual(error.reason, "Malformed")
      assert.strictEqual(error.step, "poll")
      assert.include(error.message, "the issuer's PKCE values do not match")
      assert.notInclude(error.message, "test-code-verifier")
      assert.strictEqual(requests.length, 0)
      assert.strictEqual(yield* pkce.checked, 1)
    })
  )
})

const grantOf = (poll: PollResult) => {
  if (poll._tag !== "Approved") throw new Error("not an approval")
  return poll.grant
}
