// npm run bench: AuthSession's cached path, and refresh requests under contention, in one run on this machine.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import * as AuthSessionLive from "../src/layers/AuthSessionLive.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolverLive from "../src/layers/IssuerResolverLive.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as PkceLive from "../src/layers/PkceLive.js"
import * as WorkspacePolicyLive from "../src/layers/WorkspacePolicyLive.js"
import { login } from "../src/services/login.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"

const CALLS = 1_000_000
const CONCURRENT = 10_000
const PROCESSES = 8
const bin = join(import.meta.dirname ?? process.cwd(), "..", "bin", "devicecode.mjs")

const timeLoop = <A, E>(effect: Effect.Effect<A, E>, n: number) =>
  Effect.gen(function* () {
    const started = performance.now()
    for (let i = 0; i < n; i++) yield* effect
    return performance.now() - started
  })

/** ns per accessToken call on the cached path, against a bare Effect.succeed loop measured in the same run. */
const cachedPath = Effect.gen(function* () {
  const far = DateTime.unsafeMake("2100-01-01T00:00:00Z")
  const record = new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(Redacted.make(ScriptedIssuer.unsignedJwt(ScriptedIssuer.chatgptClaims()))),
        accessToken: Redacted.make(ScriptedIssuer.unsignedJwt({ exp: Math.floor(far.epochMillis / 1000) })),
        refreshToken: Option.some(Redacted.make("rt_bench")),
        accountId: Option.some("acct_bench"),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.some(yield* DateTime.now),
    origin: Option.none(),
    extra: []
  })
  const scripted = yield* ScriptedIssuer.make()
  const session = yield* AuthSessionLive.make().pipe(
    Effect.provide(
      Layer.mergeAll(MemoryStore.layer(Option.some(record)), Layer.provide(IssuerResolverLive.fixed, scripted.layer))
    )
  )
  const baseline = Effect.succeed(1)
  yield* timeLoop(session.accessToken, 100_000)
  yield* timeLoop(baseline, 100_000)
  const base = yield* timeLoop(baseline, CALLS)
  const cached = yield* timeLoop(session.accessToken, CALLS)
  return { nsPerCall: (cached * 1e6) / CALLS, opsPerSecond: CALLS / (cached / 1000), ratio: cached / base }
})

const withHome = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(tmpdir(), "devicecode-bench-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Signs in against a LocalIssuer whose first access token is born expired; later ones live an hour. */
const signedIn = Effect.gen(function* () {
  const issuer = yield* LocalIssuer.make({ interval: 1, accessTokenTtl: 0, autoApproveAfter: "10 millis" })
  const home = yield* withHome
  const authPath = FileStore.authJsonPath(home)
  yield* login().pipe(
    Effect.provide(
      Layer.mergeAll(
        CodexIssuer.layer({ issuer: issuer.url }),
        FileStore.layer(authPath),
        PkceLive.layer,
        WorkspacePolicyLive.layer(Option.none())
      )
    )
  )
  yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
  return { issuer, home, authPath }
})

/** Refresh requests when 10,000 fibers ask one AuthSession for a token across an expiry. */
const concurrentCallers = Effect.gen(function* () {
  const { authPath, issuer } = yield* signedIn
  const before = (yield* issuer.stats).refresh
  const session = yield* AuthSessionLive.make().pipe(
    Effect.provide(Layer.mergeAll(FileStore.layer(authPath), IssuerResolverLive.layer))
  )
  const tokens = yield* Effect.all(
    Array.from({ length: CONCURRENT }, () => session.accessToken),
    { concurrency: "unbounded" }
  )
  const distinct = new Set(tokens.map(Redacted.value)).size
  return { refreshes: (yield* issuer.stats).refresh - before, distinct }
}).pipe(Effect.scoped)

const runToken = (home: string) =>
  Effect.async<number>((resume) => {
    const child = spawn(process.execPath, [bin, "token"], {
      env: { ...process.env, CODEX_HOME: home },
      stdio: "ignore"
    })
    child.once("close", (code) => resume(Effect.succeed(code ?? -1)))
  })

/** Refresh requests when 8 `devicecode token` processes share one CODEX_HOME across an expiry. */
const processes = Effect.gen(function* () {
  const { home, issuer } = yield* signedIn
  const before = (yield* issuer.stats).refresh
  const codes = yield* Effect.all(
    Array.from({ length: PROCESSES }, () => runToken(home)),
    { concurrency: "unbounded" }
  )
  const stats = yield* issuer.stats
  return {
    refreshes: stats.refresh - before,
    failed: codes.filter((code) => code !== 0).length,
    reused: stats.refreshTokenReused
  }
}).pipe(Effect.scoped)

const program = Effect.gen(function* () {
  const cached = yield* cachedPath
  const concurrent = yield* concurrentCallers
  const multi = yield* processes
  const rows: Array<readonly [string, string, string, boolean]> = [
    [
      "accessToken, cached path",
      `${cached.nsPerCall.toFixed(0)} ns/call, ${(cached.opsPerSecond / 1e6).toFixed(2)}M ops/s (${cached.ratio.toFixed(1)}x a bare Effect.succeed)`,
      "< 5 µs",
      cached.nsPerCall < 5000
    ],
    [
      `refresh requests, ${CONCURRENT.toLocaleString("en")} concurrent callers`,
      `${concurrent.refreshes} (${concurrent.distinct} distinct token)`,
      "1",
      concurrent.refreshes === 1 && concurrent.distinct === 1
    ],
    [
      `refresh requests, ${PROCESSES} processes sharing one CODEX_HOME`,
      `${multi.refreshes} (${multi.failed} failed, ${multi.reused} refresh_token_reused)`,
      "1",
      multi.refreshes === 1 && multi.failed === 0 && multi.reused === 0
    ]
  ]
  const header = ["measure", "result", "target", ""] as const
  const table = [header, ...rows.map(([a, b, c, ok]) => [a, b, c, ok ? "ok" : "MISSED"] as const)]
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i]!.length)))
  const lines = table.map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  )
  lines.splice(1, 0, widths.map((w) => "-".repeat(w)).join("  "))
  process.stdout.write(`devicecode bench (node ${process.version}, one run)\n${lines.join("\n")}\n`)
  if (rows.some((row) => !row[3])) process.exitCode = 1
})

Effect.runPromise(
  program.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layer, NodeFileSystem.layer, NodePath.layer)))
).catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
