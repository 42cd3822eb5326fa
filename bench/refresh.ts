// Refresh requests under contention: many fibers on one AuthSession, and many `devicecode token` processes.
import { Effect, Layer, Redacted } from "effect"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import { childEnv, runCli } from "./child.js"
import { signedIn } from "./signIn.js"
import { type Row, verdict } from "./table.js"

const CONCURRENT = 10_000
const PROCESSES = 8
const ROUNDS = 5
/** Longer than the spread of 8 start-ups on two cores, so that unlocked refreshes overlap at the issuer. */
const REFRESH_DELAY_MILLIS = 500

/** Refresh requests when 10,000 fibers ask one AuthSession for a token across an expiry. */
export const concurrentCallers = Effect.gen(function* () {
  const { authPath, issuer } = yield* signedIn(0)
  const before = (yield* issuer.stats).refresh
  const session = yield* AuthSession.make().pipe(
    Effect.provide(Layer.mergeAll(FileStore.layer(authPath), IssuerResolver.layer))
  )
  const tokens = yield* Effect.all(
    Array.from({ length: CONCURRENT }, () => session.accessToken),
    { concurrency: "unbounded" }
  )
  const refreshes = (yield* issuer.stats).refresh - before
  const distinct = new Set(tokens.map(Redacted.value)).size
  return {
    measure: `refresh requests, ${CONCURRENT.toLocaleString("en")} concurrent callers`,
    result: `${refreshes} (${distinct} distinct token)`,
    target: "1",
    verdict: verdict(refreshes === 1 && distinct === 1)
  } satisfies Row
}).pipe(Effect.scoped)

/**
 * One round: a fresh sign-in whose access token is expired, then 8 `devicecode token` processes spawned together on
 * its CODEX_HOME while the issuer holds each refresh answer for 500 ms.
 */
const round = (cacheHome: string) =>
  Effect.gen(function* () {
    const { home, issuer } = yield* signedIn(0)
    yield* issuer.setKnobs({ refreshDelayMillis: REFRESH_DELAY_MILLIS })
    const before = yield* issuer.stats
    const env = childEnv({ CODEX_HOME: home, XDG_CACHE_HOME: cacheHome })
    const codes = yield* Effect.all(
      Array.from({ length: PROCESSES }, () => runCli(["token"], env)),
      { concurrency: "unbounded" }
    )
    const after = yield* issuer.stats
    return {
      refreshes: after.refresh - before.refresh,
      failed: codes.filter((code) => code !== 0).length,
      reused: after.refreshTokenReused - before.refreshTokenReused
    }
  }).pipe(Effect.scoped)

/** Refresh requests per round, over 5 rounds of 8 processes sharing one CODEX_HOME across an expiry. */
export const processes = (cacheHome: string) =>
  Effect.gen(function* () {
    const rounds = yield* Effect.all(Array.from({ length: ROUNDS }, () => round(cacheHome)))
    const failed = rounds.reduce((sum, r) => sum + r.failed, 0)
    const reused = rounds.reduce((sum, r) => sum + r.reused, 0)
    return {
      measure: `refresh requests per round, ${PROCESSES} processes on one CODEX_HOME × ${ROUNDS}`,
      result: `${rounds.map((r) => r.refreshes).join(" ")} (${failed} failed, ${reused} refresh_token_reused, refresh held ${REFRESH_DELAY_MILLIS} ms)`,
      target: "1",
      verdict: verdict(rounds.every((r) => r.refreshes === 1) && failed === 0 && reused === 0)
    } satisfies Row
  })
