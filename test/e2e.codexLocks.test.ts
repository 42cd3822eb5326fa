import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schedule } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { type CliResult, expiredSignIn as signedInExpired, runCli, startCli } from "./support/cli.js"
import { postJson } from "./support/http.js"

// codex's lock protocol is played by util-linux flock(1): the same flock(2) on the same files.

/** Whether another process can take `file`'s lock right now: `flock -n FILE true` exits 0, else 1. */
const tryLock = (file: string): number | null => spawnSync("flock", ["-n", file, "true"]).status

/** Waits (real time, 20 ms a look, 15 s at most) until `check` holds. */
const eventually = (what: string, check: Effect.Effect<boolean>) =>
  check.pipe(
    Effect.repeat({ until: (ok) => ok, schedule: Schedule.spaced("20 millis") }),
    Effect.timeoutFail({ duration: "15 seconds", onTimeout: () => `not within 15 s: ${what}` }),
    Effect.orDie
  )

/** A process of ours, run to the end, and when (performance.now) it ended. */
const timed = (run: Effect.Effect<CliResult>) => Effect.map(run, (result) => ({ result, endedAt: performance.now() }))

/**
 * Another program holding `file`'s lock while it runs `command` (sh -c), killed with the scope if still running. `-o`
 * keeps the lock in flock(1) alone, not in the command it runs, so killing flock(1) is killing the holder.
 */
const holdLock = (file: string, command: string) =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => spawn("flock", ["-o", file, "sh", "-c", command], { stdio: "ignore" })),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    const exited = new Promise<number>((resolve) => child.once("exit", () => resolve(performance.now())))
    return { child, exit: Effect.promise(() => exited) }
  })

/** The shared expired sign-in, with the paths of its auth.json and codex's and devicecode's locks. */
const expiredSignIn = Effect.map(signedInExpired, (signIn) => ({
  ...signIn,
  authJson: join(signIn.home, "auth.json"),
  authLock: join(signIn.home, "auth.lock"),
  innerLock: join(signIn.home, "auth.json.lock"),
  refreshLock: join(signIn.home, "auth.json.refresh.lock")
}))

/**
 * What codex does when it refreshes: POST the stored refresh token with no lock held; then, `delay` later, write its
 * answer into auth.json under `auth.lock` and `auth.json.lock` (temp file, rename). Returns the new access token.
 */
const codexLikeRefresh = (signIn: Effect.Effect.Success<typeof expiredSignIn>, delay: string) =>
  Effect.gen(function* () {
    const record = JSON.parse(readFileSync(signIn.authJson, "utf8"))
    const answer = yield* postJson(`${signIn.issuer.url}/oauth/token`, {
      client_id: signIn.issuer.clientId,
      grant_type: "refresh_token",
      refresh_token: record.tokens.refresh_token
    })
    if (answer.status !== 200) return Option.none()
    const updated = { ...record, tokens: { ...record.tokens, ...answer.json }, last_refresh: new Date().toISOString() }
    const temp = join(signIn.home, ".auth-codexlike")
    writeFileSync(temp, JSON.stringify(updated, null, 2), { mode: 0o600 })
    const writer = yield* holdLock(
      signIn.authLock,
      `sleep ${delay} && flock -w 5 '${signIn.innerLock}' mv '${temp}' '${signIn.authJson}'`
    )
    return Option.some({ accessToken: answer.json.access_token as string, written: writer.exit })
  })

describe("devicecode and codex on one CODEX_HOME: codex's flock protocol (child processes, real HTTP)", () => {
  it.scopedLive(
    "flock auth.lock held by another program: token prints a token only after the holder exits",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        const holder = yield* holdLock(signIn.authLock, "sleep 3")
        yield* eventually(
          "the holder has auth.lock",
          Effect.sync(() => tryLock(signIn.authLock) === 1)
        )
        const token = yield* Effect.fork(timed(runCli(["token"], { env: signIn.env })))
        const holderEnded = yield* holder.exit
        const { endedAt, result } = yield* token
        assert.strictEqual(result.code, 0, result.stderr)
        assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(result.stdout.trim())))
        assert.isAtLeast(endedAt, holderEnded, "the token came only after the holder let go")
      }),
    30_000
  )

  it.scopedLive(
    "during a 3 s refresh only our auth.json.refresh.lock is held: codex's auth.lock and auth.json.lock are free",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        yield* signIn.issuer.setKnobs({ refreshDelayMillis: 3000 })
        const before = (yield* signIn.issuer.stats).refresh
        const token = yield* Effect.fork(runCli(["token"], { env: signIn.env }))
        yield* eventually(
          "the refresh request arrived",
          Effect.map(signIn.issuer.stats, (stats) => stats.refresh > before)
        )
        assert.strictEqual(tryLock(signIn.authLock), 0, "flock -n auth.lock true succeeds: codex is not kept waiting")
        assert.strictEqual(tryLock(signIn.innerLock), 0, "flock -n auth.json.lock true succeeds")
        assert.strictEqual(tryLock(signIn.refreshLock), 1, "flock -n auth.json.refresh.lock true fails: we hold it")
        const result = yield* token
        assert.strictEqual(result.code, 0, result.stderr)
        assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(result.stdout.trim())))
      }),
    30_000
  )

  it.scopedLive(
    "two of our processes needing a refresh at once, 3 s each: auth.lock stays free, one request, one token for both",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        yield* signIn.issuer.setKnobs({ refreshDelayMillis: 3000 })
        const before = yield* signIn.issuer.stats
        const processes = yield* Effect.forEach(Array.from({ length: 2 }), () =>
          startCli(["token"], { env: signIn.env })
        )
        yield* eventually(
          "the refresh request arrived",
          Effect.map(signIn.issuer.stats, (stats) => stats.refresh > before.refresh)
        )
        assert.strictEqual(tryLock(signIn.authLock), 0, "flock -n auth.lock true succeeds during the refresh")
        const results = yield* Effect.forEach(processes, (p) => p.exit, { concurrency: "unbounded" })
        const after = yield* signIn.issuer.stats
        for (const result of results) assert.strictEqual(result.code, 0, result.stderr)
        const tokens = results.map((result) => result.stdout.trim())
        assert.strictEqual(after.refresh - before.refresh, 1, "exactly one refresh request")
        assert.strictEqual(after.refreshTokenReused - before.refreshTokenReused, 0)
        assert.strictEqual(tokens[0], tokens[1], "both print the same new token")
        assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(tokens[0]!)))
        assert.strictEqual(JSON.parse(readFileSync(signIn.authJson, "utf8")).tokens.access_token, tokens[0])
      }),
    30_000
  )

  it.scopedLive(
    "logout revokes with auth.lock free (a revoke that never answers, 10 s, does not stall codex), then removes",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        yield* signIn.issuer.setKnobs({ faults: [{ path: "/oauth/revoke", hang: true }] })
        const logout = yield* startCli(["logout"], { env: signIn.env })
        yield* eventually(
          "the revoke request arrived",
          Effect.map(signIn.issuer.requests, (requests) => requests.some((r) => r.path === "/oauth/revoke"))
        )
        assert.strictEqual(tryLock(signIn.authLock), 0, "flock -n auth.lock true succeeds during the revoke")
        assert.strictEqual(tryLock(signIn.refreshLock), 1, "our own lock is held across it")
        // another program refreshes meanwhile: what it wrote is removed too, a logout is a logout
        const record = JSON.parse(readFileSync(signIn.authJson, "utf8"))
        const refreshed = { ...record, tokens: { ...record.tokens, refresh_token: "rt-another-program" } }
        writeFileSync(signIn.authJson, JSON.stringify(refreshed, null, 2), { mode: 0o600 })
        const result = yield* logout.exit
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stderr, "could not revoke")
        assert.strictEqual(result.stdout.trim(), "Successfully logged out")
        assert.isFalse(existsSync(signIn.authJson))
      }),
    30_000
  )

  it.scopedLive(
    "codex spends the refresh token and writes 2 s later: a token started in between adopts codex's token",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        const codex = Option.getOrThrow(yield* codexLikeRefresh(signIn, "2"))
        const result = yield* runCli(["token"], { env: signIn.env })
        assert.strictEqual(result.code, 0, result.stderr)
        assert.strictEqual(result.stdout.trim(), codex.accessToken)
        yield* codex.written
        assert.strictEqual(JSON.parse(readFileSync(signIn.authJson, "utf8")).tokens.access_token, codex.accessToken)
      }),
    30_000
  )

  it.scopedLive(
    "8 processes of ours and a codex-like refresh at once: every process prints a valid token, auth.json whole",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        yield* signIn.issuer.setKnobs({ refreshDelayMillis: 200 })
        const processes = yield* Effect.forEach(Array.from({ length: 8 }), () =>
          startCli(["token"], { env: signIn.env })
        )
        const codex = yield* codexLikeRefresh(signIn, "0.5")
        const results = yield* Effect.forEach(processes, (p) => p.exit, { concurrency: "unbounded" })
        if (Option.isSome(codex)) yield* codex.value.written
        for (const result of results) {
          assert.strictEqual(result.code, 0, result.stderr)
          assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(result.stdout.trim())))
        }
        const stored = JSON.parse(readFileSync(signIn.authJson, "utf8"))
        assert.isTrue(Option.isSome(yield* signIn.issuer.verifyAccessToken(stored.tokens.access_token)))
      }),
    60_000
  )

  it.scopedLive(
    "a holder killed with SIGKILL leaves no lock behind: the next command does not wait",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        const holder = yield* holdLock(signIn.authLock, "sleep 60")
        yield* eventually(
          "the holder has auth.lock",
          Effect.sync(() => tryLock(signIn.authLock) === 1)
        )
        holder.child.kill("SIGKILL")
        yield* holder.exit
        const result = yield* runCli(["token"], { env: signIn.env })
        assert.strictEqual(result.code, 0, result.stderr)
        assert.isTrue(existsSync(signIn.authLock), "the lock files stay, empty, as codex leaves them")
      }),
    30_000
  )

  it.scopedLive(
    "logout during a refresh waits for it, then removes the sign-in: status says not logged in",
    () =>
      Effect.gen(function* () {
        const signIn = yield* expiredSignIn
        yield* signIn.issuer.setKnobs({ refreshDelayMillis: 2000 })
        const before = (yield* signIn.issuer.stats).refresh
        const token = yield* Effect.fork(runCli(["token"], { env: signIn.env }))
        yield* eventually(
          "the refresh request arrived",
          Effect.map(signIn.issuer.stats, (stats) => stats.refresh > before)
        )
        const logout = yield* runCli(["logout"], { env: signIn.env })
        const refreshed = yield* token
        assert.strictEqual(refreshed.code, 0, refreshed.stderr)
        assert.strictEqual(logout.code, 0, logout.stderr)
        assert.strictEqual(logout.stdout.trim(), "Successfully logged out")
        // logout took the lock only after the refresh was answered and saved: it revoked the new refresh token
        const log = (yield* signIn.issuer.requests).map((r) => `${r.path} ${r.grantType ?? ""}`.trim())
        const refreshAt = log.lastIndexOf("/oauth/token refresh_token")
        assert.isAbove(refreshAt, -1)
        assert.isAbove(log.indexOf("/oauth/revoke", refreshAt), refreshAt, "the revoke came after the refresh")
        assert.isFalse(existsSync(signIn.authJson))
        const status = yield* runCli(["status"], { env: signIn.env })
        assert.strictEqual(status.code, 1)
        assert.include(status.stdout, "Not logged in")
      }),
    30_000
  )
})
