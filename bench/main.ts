// npm run bench: AuthSession's cached path, refresh requests under contention, and the CLI's start-up and memory, in
// one run on this machine.
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import { DateTime, Effect, Layer, Option, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import { readFileSync } from "node:fs"
import { availableParallelism } from "node:os"
import { StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import { bin, childEnv, devNull } from "./child.js"
import { concurrentCallers, processes } from "./refresh.js"
import { signedIn, tempDir } from "./signIn.js"
import { peakRss, pollingLoginRss, RUNS, startup } from "./startup.js"
import { render, type Row, summary, verdict } from "./table.js"

const CALLS = 1_000_000
const API_KEY = "sk-proj-bench-0000000000-12345"

const timeLoop = <A, E>(effect: Effect.Effect<A, E>, n: number) =>
  Effect.gen(function* () {
    const started = performance.now()
    for (let i = 0; i < n; i++) yield* effect
    return performance.now() - started
  })

/** ns per accessToken call on the cached path: 1,000,000 calls on one session holding a token valid until 2100. */
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
        loginOwnerId: Option.none(),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.some(yield* DateTime.now),
    origin: Option.none(),
    extra: []
  })
  const scripted = yield* ScriptedIssuer.make()
  const session = yield* AuthSession.make().pipe(
    Effect.provide(Layer.mergeAll(MemoryStore.layer(Option.some(record)), scripted.layer))
  )
  yield* timeLoop(session.accessToken, 100_000)
  const nsPerCall = ((yield* timeLoop(session.accessToken, CALLS)) * 1e6) / CALLS
  return {
    measure: "accessToken, cached path",
    result: `${nsPerCall.toFixed(0)} ns/call`,
    target: "< 5 µs",
    verdict: verdict(nsPerCall < 5000)
  } satisfies Row
})

/** A CODEX_HOME holding an API-key sign-in, stored by `devicecode login --with-api-key`. */
const apiKeyHome = Effect.gen(function* () {
  const home = yield* tempDir("home")
  const run = spawnSync(process.execPath, [bin, "login", "--with-api-key"], {
    env: childEnv({ CODEX_HOME: home }),
    input: API_KEY,
    stdio: ["pipe", devNull(), "inherit"]
  })
  if (run.status !== 0) return yield* Effect.dieMessage(`login --with-api-key exited ${run.status}`)
  return home
})

/** Start-up of status, token and help, and the memory of status and of a polling login. */
const cli = (cacheHome: string) =>
  Effect.gen(function* () {
    const apiKey = yield* apiKeyHome
    const chatgpt = yield* signedIn("1 hour")
    const accessToken = JSON.parse(readFileSync(chatgpt.authPath, "utf8")).tokens.access_token as string
    const status = (label: string, home: string, says: string) =>
      startup({ label, args: ["status"], home, maxRatio: 2.5, expect: (out) => out.includes(says) })
    const rows: Array<Row> = [
      ...(yield* status("status (API key)", apiKey, "API key configured - ")),
      ...(yield* status("status (ChatGPT)", chatgpt.home, "Logged in using ChatGPT"))
    ]
    const refreshesBefore = (yield* chatgpt.issuer.stats).refresh
    const token = yield* startup({
      label: "token (fresh ChatGPT token)",
      args: ["token"],
      home: chatgpt.home,
      maxRatio: 2.5,
      expect: (out) => out.trim() === accessToken
    })
    const refreshed = (yield* chatgpt.issuer.stats).refresh - refreshesBefore
    rows.push(
      ...(refreshed === 0
        ? token
        : token.map((row) => ({ ...row, result: `${row.result}; ${refreshed} refreshes`, verdict: "MISSED" as const })))
    )
    const help = (label: string, args: ReadonlyArray<string>) =>
      startup({ label, args, home: apiKey, maxRatio: 3.5, expect: (out) => out.includes("USAGE") })
    rows.push(...(yield* help("--help", ["--help"])), ...(yield* help("login --help", ["login", "--help"])))
    for (const [label, home] of [
      ["status (API key)", apiKey],
      ["status (ChatGPT)", chatgpt.home]
    ] as const) {
      rows.push(yield* peakRss({ label, args: ["status"], home, cacheHome, maxMib: 70 }))
    }
    rows.push(yield* pollingLoginRss({ cacheHome, maxMib: 80 }))
    return rows
  }).pipe(Effect.scoped)

const program = Effect.gen(function* () {
  const cacheHome = yield* tempDir("cache")
  const rows: Array<Row> = [
    yield* cachedPath,
    yield* concurrentCallers,
    yield* processes(cacheHome),
    ...(yield* cli(cacheHome))
  ]
  process.stdout.write(
    `devicecode bench (node ${process.version}, ${availableParallelism()} cores, one run; start-up: ${RUNS} runs of ` +
      "each, median (min–max), NODE_EXTRA_CA_CERTS unset)\n" +
      `${render(rows)}\n${summary(rows)}\n`
  )
  if (rows.some((row) => row.verdict === "MISSED")) process.exitCode = 1
}).pipe(Effect.scoped)

Effect.runPromise(
  program.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layer, NodeFileSystem.layer, NodePath.layer)))
).catch((error) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.message : String(error)}\n`)
  process.exitCode = 1
})
