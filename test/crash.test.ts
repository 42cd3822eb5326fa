import { afterAll, assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit } from "effect"
import { existsSync, readdirSync, readFileSync, watch, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as DeviceCodeAuth from "../src/layers/DeviceCodeAuth.js"
import { login } from "../src/services/login.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type CliResult, runCli, startCli } from "./support/cli.js"
import { postJson } from "./support/http.js"
import { tempDir } from "./support/tmp.js"

// kill -9 at random points of login, refresh (`devicecode token` with an expired access token) and logout, in several
// CODEX_HOMEs at once, each with its own LocalIssuer. After each kill auth.json is whole (absent, or a full record),
// and the refresh token the issuer holds live is not lost: the next command (status) adopts the temp file a killed save
// left, and the refresh token then in auth.json is spent once at the issuer to prove it was the live one.
// A kill lands at a random time in the run, at a random moment just after the issuer answered the run's key request,
// or the moment a temp file appears: the write itself is a few hundred microseconds of a run of half a second.

const SEED = Number(process.env.DEVICECODE_CRASH_SEED ?? 20260425)
/** 100 kills in all, in rounds of their own test each: a round is 20 kills across 4 lanes at once. */
const ROUNDS = 5
const KILLS_PER_ROUND = 20
const LANES = 4
// Two cores run a CLI start in about 0.2 s: all 100 kills took 45 s alone beside two busy loops on two cores, and
// 40–90 s with other test files beside them, so a round takes 8–18 s; it must end within 25 s.
const ROUND_BUDGET_MS = 25_000

/** mulberry32: a small seeded generator; DEVICECODE_CRASH_SEED replays a run's choices (not its timing). */
const seeded = (seed: number) => {
  let state = seed >>> 0
  return (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const PHASES = ["login", "refresh", "logout"] as const
type Phase = (typeof PHASES)[number]

/** Where a kill lands: at a random time, a random 0–30 ms after the key request was answered, or at the temp file. */
type Aim = "time" | "answer" | "write"

/** The request that commits a run: the exchange, the refresh, the revocation. */
const keyRequest: Record<Phase, (request: LocalIssuer.LocalIssuerRequest) => boolean> = {
  login: (r) => r.grantType === "authorization_code",
  refresh: (r) => r.grantType === "refresh_token",
  logout: (r) => r.path === "/oauth/revoke"
}

interface Counts {
  readonly kills: Record<Phase, number>
  readonly aims: Record<Aim, number>
  /** Runs that ended by themselves before their kill came. */
  finished: number
  /** Complete temp files of a killed save that the next command made auth.json. */
  adopted: number
  /** Torn or empty temp files the next command removed. */
  discarded: number
  /** Killed after the issuer spent the refresh token and before its successor reached the disk: no store can help. */
  lostInFlight: number
  /** How long the round took. */
  millis: number
}

const killsOf = (counts: Counts) => counts.kills.login + counts.kills.refresh + counts.kills.logout

/** A full record as codex writes it; values are never printed. */
const isWhole = (text: string): boolean => {
  try {
    const record = JSON.parse(text)
    const tokens = record.tokens
    return (
      record.auth_mode === "chatgpt" &&
      typeof record.last_refresh === "string" &&
      typeof tokens?.id_token === "string" &&
      typeof tokens?.access_token === "string" &&
      typeof tokens?.refresh_token === "string"
    )
  } catch {
    return false
  }
}

const refreshTokenOf = (text: string | undefined): string | undefined =>
  text !== undefined && isWhole(text) ? JSON.parse(text).tokens.refresh_token : undefined

/** What a CODEX_HOME holds: auth.json, the temp files saves left, and how many files were kept as unreadable. */
const snapshot = (home: string) => {
  const names = readdirSync(home)
  const authPath = join(home, "auth.json")
  return {
    auth: existsSync(authPath) ? readFileSync(authPath, "utf8") : undefined,
    temps: names.filter((n) => n.startsWith(".auth.json.tmp-")).map((n) => readFileSync(join(home, n), "utf8")),
    unreadable: names.filter((n) => n.includes(".unreadable-")).length
  }
}

const failed = (what: string, result: CliResult) =>
  `${what} exited ${result.code} (${result.signal}); stderr: ${result.stderr.slice(0, 400)}`

/** Every round's counts, for the summary line after the last. */
const rounds: Array<Counts> = []
// how long each command runs here and now, from the runs that were not killed (carried from round to round)
const lifetime: Record<Phase, number> = { login: 700, refresh: 600, logout: 600 }

describe("kill -9 at random points (child processes, real HTTP)", () => {
  afterAll(() => {
    const sum = (of: (counts: Counts) => number) => rounds.reduce((total, counts) => total + of(counts), 0)
    const seconds = (sum((counts) => counts.millis) / 1000).toFixed(1)
    console.log(
      `kill -9, seed ${SEED}, ${rounds.length} rounds of ${LANES} lanes, ${seconds} s: ` +
        `kills during login ${sum((c) => c.kills.login)}, during refresh ${sum((c) => c.kills.refresh)}, ` +
        `during logout ${sum((c) => c.kills.logout)} (aimed at a random time ${sum((c) => c.aims.time)}, ` +
        `just after the issuer answered ${sum((c) => c.aims.answer)}, at the temp file ${sum((c) => c.aims.write)}; ` +
        `runs that ended before their kill ${sum((c) => c.finished)}); temp files adopted ${sum((c) => c.adopted)}, ` +
        `discarded ${sum((c) => c.discarded)}; refresh tokens lost in flight (spent at the issuer, the process killed ` +
        `before the answer reached the disk) ${sum((c) => c.lostInFlight)}`
    )
  })

  // ROUNDS × KILLS_PER_ROUND = 100 kills: each round checks it made its share
  for (let round = 1; round <= ROUNDS; round++) {
    it.scopedLive(
      `round ${round} of ${ROUNDS}: ${KILLS_PER_ROUND} kills of login, refresh and logout in ${LANES} CODEX_HOMEs at ` +
        `once: auth.json stays whole, the live refresh token is kept`,
      () =>
        Effect.gen(function* () {
          // a generator of its own per round: DEVICECODE_CRASH_SEED replays a round alone too
          const random = seeded(SEED + round)
          const pick = <A>(items: ReadonlyArray<A>): A => items[Math.floor(random() * items.length)]!
          const counts: Counts = {
            kills: { login: 0, refresh: 0, logout: 0 },
            aims: { time: 0, answer: 0, write: 0 },
            finished: 0,
            adopted: 0,
            discarded: 0,
            lostInFlight: 0,
            millis: 0
          }
          rounds.push(counts)
          const startedAt = performance.now()

          const lane = (index: number) =>
            Effect.gen(function* () {
              const home = yield* tempDir
              let keyAnswered: Deferred.Deferred<void> | undefined
              let phaseNow: Phase = "login"
              const issuer = yield* LocalIssuer.make({
                interval: "1 second",
                accessTokenTtl: 0,
                autoApproveAfter: "0 millis",
                onRequest: (request) =>
                  keyAnswered !== undefined && keyRequest[phaseNow](request)
                    ? Deferred.succeed(keyAnswered, undefined)
                    : Effect.void
              })
              const args: Record<Phase, ReadonlyArray<string>> = {
                login: ["login", "--issuer", issuer.url],
                refresh: ["token"],
                logout: ["logout"]
              }
              const env = { CODEX_HOME: home }
              const run = (phase: Phase) =>
                Effect.gen(function* () {
                  const began = performance.now()
                  const result = yield* runCli(args[phase], { env })
                  if (result.code === 0) lifetime[phase] = 0.8 * lifetime[phase] + 0.2 * (performance.now() - began)
                  return result
                })
              const label = (what: string) => `lane ${index}: ${what}`
              let signedIn = false

              while (killsOf(counts) < KILLS_PER_ROUND) {
                assert.isBelow(performance.now() - startedAt, ROUND_BUDGET_MS, `round ${round} ran out of time`)
                const phase = pick(PHASES)
                if (phase !== "login" && !signedIn) {
                  // a sign-in to kill a refresh or logout of: the library's login, in this process, saves a CLI start
                  yield* login().pipe(Effect.provide(DeviceCodeAuth.layerNode({ codexHome: home, issuer: issuer.url })))
                  signedIn = true
                }
                const before = snapshot(home)
                const statsBefore = yield* issuer.stats
                if (phase === "refresh") yield* issuer.setKnobs({ refreshDelayMillis: Math.floor(random() * 20) })
                const aim: Aim = phase === "logout" ? pick(["time", "answer"]) : pick(["time", "answer", "write"])
                const delay = aim === "time" ? lifetime[phase] * (0.3 + 0.8 * random()) : 30 * random()

                phaseNow = phase
                const answered = yield* Deferred.make<void>()
                keyAnswered = answered
                const child = yield* startCli(args[phase], { env })
                if (aim === "time") {
                  yield* Effect.sleep(delay)
                } else {
                  yield* Effect.raceFirst(Deferred.await(answered), child.exit)
                  if (aim === "answer") yield* Effect.sleep(delay)
                  else {
                    // the moment a temp file shows up beside auth.json (inotify), or when the run ends, or after 2 s
                    const written = yield* Deferred.make<void>()
                    const watcher = watch(home, (_, name) => {
                      if (String(name).startsWith(".auth.json.tmp-")) Deferred.unsafeDone(written, Exit.void)
                    })
                    yield* Effect.raceAll([
                      Deferred.await(written),
                      Effect.asVoid(child.exit),
                      Effect.sleep("2 seconds")
                    ]).pipe(Effect.ensuring(Effect.sync(() => watcher.close())))
                  }
                }
                yield* child.kill("SIGKILL")
                const result = yield* child.exit
                keyAnswered = undefined
                if (result.signal === "SIGKILL") {
                  counts.kills[phase]++
                  counts.aims[aim]++
                } else counts.finished++

                const killed = snapshot(home)
                if (killed.auth !== undefined) assert.isTrue(isWhole(killed.auth), label("auth.json torn by a kill"))
                const statsAfter = yield* issuer.stats

                switch (phase) {
                  case "login": {
                    // status reads only, and takes auth.json.lock to recover what a kill left
                    if (killed.temps.length > 0) {
                      const status = yield* runCli(["status"], { env, fastPathCheck: false })
                      assert.include([0, 1], status.code, failed(label("status"), status))
                    }
                    const after = snapshot(home)
                    const adopted = killed.temps.some((text) => text === after.auth && text !== killed.auth)
                    if (adopted) counts.adopted++
                    counts.discarded += killed.temps.length - (adopted ? 1 : 0)
                    assert.strictEqual(after.temps.length, 0, label("a temp file outlived the next command"))
                    if (after.auth !== undefined) assert.isTrue(isWhole(after.auth), label("auth.json is not whole"))
                    // a login that reached the store signed in anew; else the old sign-in stands
                    if (after.auth !== before.auth) signedIn = after.auth !== undefined
                    break
                  }
                  case "refresh": {
                    if (statsAfter.refresh === statsBefore.refresh && killed.temps.length === 0) {
                      // killed before its refresh went out: nothing changed
                      assert.isTrue(killed.auth === before.auth, label("auth.json changed with no refresh"))
                      break
                    }
                    // status reads only, and takes auth.json.lock to recover what the kill left
                    const status = yield* runCli(["status"], { env, fastPathCheck: false })
                    assert.strictEqual(status.code, 0, failed(label("status"), status))
                    const after = snapshot(home)
                    assert.strictEqual(after.temps.length, 0, label("a temp file outlived the next command"))
                    assert.isTrue(after.auth !== undefined && isWhole(after.auth), label("auth.json is not whole"))
                    // The refresh token in auth.json must be the one the issuer holds live: spend it, keep the answer.
                    const record = JSON.parse(after.auth!)
                    const probe = yield* postJson(`${issuer.url}/oauth/token`, {
                      client_id: issuer.clientId,
                      grant_type: "refresh_token",
                      refresh_token: record.tokens.refresh_token
                    })
                    if (probe.status === 200) {
                      const adopted = after.auth !== killed.auth
                      if (adopted) counts.adopted++
                      counts.discarded += killed.temps.length - (adopted ? 1 : 0)
                      const { access_token, id_token, refresh_token } = probe.json
                      const tokens = { ...record.tokens, access_token, id_token, refresh_token }
                      writeFileSync(join(home, "auth.json"), JSON.stringify({ ...record, tokens }, null, 2))
                      break
                    }
                    assert.strictEqual(
                      probe.json.error?.code,
                      "refresh_token_reused",
                      label("the stored refresh token")
                    )
                    // spent at the issuer, and its successor is nowhere on disk: it died with the process
                    const spent = refreshTokenOf(before.auth)
                    const onDisk = [killed.auth, ...killed.temps].map(refreshTokenOf)
                    assert.isTrue(
                      onDisk.every((token) => token === undefined || token === spent),
                      label("a rotated refresh token reached the disk and was lost")
                    )
                    counts.lostInFlight++
                    counts.discarded += killed.temps.length
                    signedIn = false
                    break
                  }
                  case "logout": {
                    assert.strictEqual(killed.temps.length, 0, label("a logout wrote a temp file"))
                    // A revocation the dead process sent may still be on its way in, so the sign-in is not trusted
                    // again: a logout run to the end leaves nothing.
                    if (killed.auth !== undefined) {
                      const done = yield* run("logout")
                      assert.strictEqual(done.code, 0, failed(label("logout after a kill"), done))
                      assert.isFalse(existsSync(join(home, "auth.json")), label("auth.json outlived a logout"))
                    }
                    signedIn = false
                    break
                  }
                }
                assert.strictEqual(snapshot(home).unreadable, 0, label("a kill left an unreadable auth.json"))
              }
            })

          yield* Effect.all(
            Array.from({ length: LANES }, (_, index) => Effect.scoped(lane(index))),
            { concurrency: "unbounded", discard: true }
          ).pipe(Effect.ensuring(Effect.sync(() => (counts.millis = performance.now() - startedAt))))
          assert.isAtLeast(killsOf(counts), KILLS_PER_ROUND)
        })
    )
  }
})
