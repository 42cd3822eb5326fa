import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type CliResult, expiredSignIn, runCli, startCli } from "./support/cli.js"
import { holdLock } from "./support/locks.js"
import { eventually, timed } from "./support/wait.js"

/**
 * A signal while `token`'s refresh request is out (the built CLI as a child process, a LocalIssuer over loopback):
 * once sent, the request may spend the stored refresh token, so the first Ctrl-C/SIGTERM waits up to 4 s for the
 * answer and saves it, saying so on stderr; a second signal stops at once; the command ends within 5 s of the first.
 * After each, the next `token` works without a second use of a spent refresh token at the issuer.
 */

const refreshTokenIn = (home: string): string =>
  JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).tokens.refresh_token

/** `token` in `home` with its refresh request out at the issuer (answered after `delayMs`, or never). */
const tokenWithRefreshOut = (home: string, issuer: LocalIssuer.LocalIssuer) =>
  Effect.gen(function* () {
    const cli = yield* startCli(["token"], { env: { CODEX_HOME: home } })
    // a refresh counts when it arrives; one a fault holds is listed when it arrives
    const arrived = Effect.zipWith(
      issuer.stats,
      issuer.requests,
      (stats, requests) => stats.refresh >= 1 || requests.some((r) => r.path === "/oauth/token" && r.status === "hang")
    )
    yield* eventually("the refresh request to reach the issuer", arrived)
    return cli
  })

/** The next `token` exits 0 with the token the issuer minted last, and no spent refresh token was sent again. */
const nextTokenWorks = (home: string, issuer: LocalIssuer.LocalIssuer, label: string) =>
  Effect.gen(function* () {
    const next = yield* runCli(["token"], { env: { CODEX_HOME: home } })
    assert.strictEqual(next.code, 0, `${label}: ${next.stderr}`)
    assert.match(next.stdout, /^\S+\n$/, label)
    const stats = yield* issuer.stats
    assert.strictEqual(stats.refreshTokenReused, 0, `${label}: a spent refresh token was sent again`)
    const live = yield* issuer.refreshTokenState(refreshTokenIn(home))
    assert.isTrue(live._tag === "Some" && live.value === "active", `${label}: the stored refresh token is not live`)
  })

const noTempFiles = (home: string) =>
  readdirSync(home).filter((name) => name.includes(".tmp-") || name.includes(".reserved-"))

const assertPlain = (result: CliResult, label: string) => {
  assert.notMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${label}: a stack trace`)
  assert.strictEqual(result.stdout, "", `${label}: printed a token though interrupted`)
}

describe("a signal while token's refresh is out", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129]
  ] as const) {
    it.scopedLive(`${signal} 1 s into a 2 s refresh: the answer is saved, exit ${code}; the next token works`, () =>
      Effect.gen(function* () {
        const { home, issuer } = yield* expiredSignIn
        yield* issuer.setKnobs({ refreshDelayMillis: 2000 })
        const cli = yield* tokenWithRefreshOut(home, issuer)
        yield* Effect.sleep("1 second")
        const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill(signal), cli.exit))
        assert.strictEqual(result.code, code, result.stderr)
        assert.isBelow(millis, 5000, "ended more than 5 s after the signal")
        assert.match(result.stderr, /Interrupted during a token refresh: waiting up to 4 seconds for its answer/)
        assert.include(result.stderr, "The refreshed sign-in is saved.", result.stderr)
        assertPlain(result, signal)
        assert.deepStrictEqual(noTempFiles(home), [])
        yield* issuer.setKnobs({ refreshDelayMillis: 0 })
        yield* nextTokenWorks(home, issuer, signal)
        // the saved answer's access token was served: no second refresh
        assert.strictEqual((yield* issuer.stats).refresh, 1)
      })
    )
  }

  it.scopedLive(
    "Ctrl-C, then auth.json.lock stays taken: the answer is kept beside auth.json within 5 s; the next token adopts it",
    () =>
      Effect.gen(function* () {
        const { home, issuer } = yield* expiredSignIn
        yield* issuer.setKnobs({ refreshDelayMillis: 2000 })
        const other = yield* holdLock(join(home, "auth.json.lock"))
        const cli = yield* tokenWithRefreshOut(home, issuer)
        yield* Effect.sleep("1 second")
        const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill("SIGINT"), cli.exit))
        assert.strictEqual(result.code, 130, result.stderr)
        assert.isBelow(millis, 5000, "ended more than 5 s after the signal")
        const kept = readdirSync(home).filter((name) => name.startsWith(".auth.json.tmp-"))
        assert.strictEqual(kept.length, 1, result.stderr)
        assert.include(result.stderr, `auth.json.lock stayed locked by another process`)
        assert.include(result.stderr, `The new sign-in is kept in ${join(home, kept[0]!)}`)
        assertPlain(result, "lock held")
        yield* other.release
        yield* issuer.setKnobs({ refreshDelayMillis: 0 })
        yield* nextTokenWorks(home, issuer, "after the kept answer")
        assert.strictEqual((yield* issuer.stats).refresh, 1, "the kept answer's token was not served")
        assert.deepStrictEqual(noTempFiles(home), [])
      })
  )

  it.scopedLive(
    "Ctrl-C after the answer, while its save waits for auth.lock: the answer is kept within 5 s; the next token adopts it",
    () =>
      Effect.gen(function* () {
        const { home, issuer } = yield* expiredSignIn
        const other = yield* holdLock(join(home, "auth.lock"))
        const cli = yield* startCli(["token"], { env: { CODEX_HOME: home } })
        yield* cli.waitFor(/^Waiting for .*auth\.lock: another program/m, "stderr")
        assert.strictEqual((yield* issuer.stats).refresh, 1, "the save waits after the answer")
        const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill("SIGINT"), cli.exit))
        assert.strictEqual(result.code, 130, result.stderr)
        assert.isBelow(millis, 5000, "ended more than 5 s after the signal")
        const kept = readdirSync(home).filter((name) => name.startsWith(".auth.json.tmp-"))
        assert.strictEqual(kept.length, 1, result.stderr)
        assert.include(result.stderr, "interrupted while waiting for it")
        assert.include(result.stderr, `The new sign-in is kept in ${join(home, kept[0]!)}`)
        assertPlain(result, "save waiting")
        yield* other.release
        yield* nextTokenWorks(home, issuer, "after the kept answer")
        assert.strictEqual((yield* issuer.stats).refresh, 1, "the kept answer's token was not served")
      })
  )

  it.scopedLive("Ctrl-C while the refresh hangs: waits 4 s, says nothing was saved, exit 130 within 5 s", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* expiredSignIn
      const before = refreshTokenIn(home)
      yield* issuer.setKnobs({ faults: [{ path: "/oauth/token", hang: true, times: 1 }] })
      const cli = yield* tokenWithRefreshOut(home, issuer)
      const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill("SIGINT"), cli.exit))
      assert.strictEqual(result.code, 130, result.stderr)
      assert.isAtLeast(millis, 3500, "gave up on the answer before its 4 s")
      assert.isBelow(millis, 5000, "ended more than 5 s after the signal")
      assert.include(result.stderr, "No answer to the refresh in time; nothing was saved.")
      assertPlain(result, "hang")
      assert.strictEqual(refreshTokenIn(home), before)
      // the hung request never reached the token logic: the stored refresh token is still live
      yield* nextTokenWorks(home, issuer, "after the hang")
    })
  )

  it.scopedLive("a second Ctrl-C stops at once; the refresh token kept is the one the issuer still holds", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* expiredSignIn
      const before = refreshTokenIn(home)
      yield* issuer.setKnobs({ faults: [{ path: "/oauth/token", hang: true, times: 1 }] })
      const cli = yield* tokenWithRefreshOut(home, issuer)
      yield* cli.kill("SIGINT")
      yield* cli.waitFor(/waiting up to 4 seconds/, "stderr")
      const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill("SIGINT"), cli.exit))
      assert.strictEqual(result.code, 130, result.stderr)
      assert.isBelow(millis, 1500, "the second signal did not stop at once")
      assert.include(result.stderr, "Interrupted again: stopped at once.")
      assertPlain(result, "second Ctrl-C")
      assert.strictEqual(refreshTokenIn(home), before)
      yield* nextTokenWorks(home, issuer, "after a second Ctrl-C")
    })
  )
})
