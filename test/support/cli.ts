import { assert } from "@effect/vitest"
import { Effect, Schema, type Scope } from "effect"
import { FAST_PATH_SWITCH, fastPathOf } from "../../src/cli/fastPath.js"
import { CliEvents } from "../../src/index.js"
import * as LocalIssuer from "../../src/testing/LocalIssuer.js"
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { postJson } from "./http.js"
import { tempDir, testTmp } from "./tmp.js"

/**
 * The code cache the CLI children of this test run share (bin/devicecode.cjs), not the user's ~/.cache: the first
 * run of a command writes it, later ones use it, as for a user. In the run's temp folder, removed with it when the run
 * ends (vitest ends its workers without an "exit" event); without vitest's globalSetup, one per test process.
 */
const codeCache =
  process.env.DEVICECODE_TEST_TMP === undefined
    ? mkdtempSync(join(testTmp, "devicecode-test-cache-"))
    : join(testTmp, "code-cache")
if (process.env.DEVICECODE_TEST_TMP === undefined) {
  process.once("exit", () => rmSync(codeCache, { recursive: true, force: true }))
}

/** The built CLI, as `npx devicecode` runs it. */
export const binPath = fileURLToPath(new URL("../../bin/devicecode.cjs", import.meta.url))

/** How a CLI run ended, with everything it printed. */
export interface CliResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
}

/** A CLI child process that is still running. */
export interface CliProcess {
  readonly output: () => { readonly stdout: string; readonly stderr: string }
  /** Waits until `pattern` shows up on the stream (bounded), and returns the match. */
  readonly waitFor: (
    pattern: RegExp,
    stream?: "stdout" | "stderr",
    timeoutMs?: number
  ) => Effect.Effect<RegExpExecArray>
  readonly kill: (signal: NodeJS.Signals) => Effect.Effect<void>
  readonly exit: Effect.Effect<CliResult>
}

/** Options of a CLI run: extra environment, what to write to stdin, and another copy of the CLI to run. */
export interface CliOptions {
  readonly env?: Record<string, string>
  readonly input?: string
  /** A bin/devicecode.cjs other than the built one ({@link binPath}). */
  readonly bin?: string
  /** Whether a `status` the fast path takes is run again without it and compared (default: yes); see {@link runCli}. */
  readonly fastPathCheck?: boolean
}

/** Starts the built CLI; it is killed when the scope closes if it is still running. */
export const startCli = (
  args: ReadonlyArray<string>,
  options: CliOptions = {}
): Effect.Effect<CliProcess, never, Scope.Scope> =>
  Effect.gen(function* () {
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, [options.bin ?? binPath, ...args], {
          env: {
            PATH: process.env.PATH ?? "",
            HOME: process.env.HOME ?? "/root",
            XDG_CACHE_HOME: codeCache,
            // what the CLI puts in the temp directory (a demo's CODEX_HOME, if it is killed) goes with the run's
            TMPDIR: testTmp,
            ...options.env
          },
          stdio: ["pipe", "pipe", "pipe"]
        })
      ),
      (child) => Effect.sync(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"))
    )
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.stdin.end(options.input ?? "")
    const exited = new Promise<CliResult>((resolve) =>
      child.once("close", (code, signal) => resolve({ code, signal, stdout, stderr }))
    )
    return {
      output: () => ({ stdout, stderr }),
      waitFor: (pattern, stream = "stdout", timeoutMs = 15_000) =>
        Effect.gen(function* () {
          while (true) {
            const match = pattern.exec(stream === "stdout" ? stdout : stderr)
            if (match) return match
            if (child.exitCode !== null) return yield* Effect.die(`CLI exited before ${pattern}: ${stdout}\n${stderr}`)
            yield* Effect.sleep("20 millis")
          }
        }).pipe(
          Effect.timeoutFail({
            duration: timeoutMs,
            onTimeout: () => `no ${pattern} on ${stream} within ${timeoutMs} ms:\n${stdout}\n${stderr}`
          }),
          Effect.orDie
        ),
      kill: (signal) => Effect.sync(() => void child.kill(signal)),
      exit: Effect.promise(() => exited)
    }
  })

const runToEnd = (args: ReadonlyArray<string>, options: CliOptions): Effect.Effect<CliResult> =>
  Effect.scoped(Effect.flatMap(startCli(args, options), (cli) => cli.exit))

// How long a token has left (`(in 59 minutes)`) may change between two runs: the clock's doing, not the path's.
const timeLeft = /\(in \d+ (?:minutes|seconds|second)\)/g

/** A run's exit and output, what two runs of one command line must share (test/e2e.fastPath.test.ts too). */
export const comparable = (run: CliResult) => ({
  code: run.code,
  signal: run.signal,
  stdout: run.stdout.replace(timeLeft, "(in …)"),
  stderr: run.stderr.replace(timeLeft, "(in …)")
})

/**
 * Runs the built CLI to the end. A `status` the fast path takes (src/cli/fastPath.ts) runs a second time through
 * @effect/cli's parser (DEVICECODE_FAST_PATH=off), which must print the same bytes and exit alike: `status` only reads,
 * so every status command line of the CLI tests checks the fast path. `fastPathCheck: false` leaves that out where the
 * first run changes what the second would see (status recovering what a killed run left).
 */
export const runCli = (args: ReadonlyArray<string>, options: CliOptions = {}): Effect.Effect<CliResult> =>
  Effect.gen(function* () {
    const run = yield* runToEnd(args, options)
    const env = options.env ?? {}
    if (args[0] !== "status" || options.fastPathCheck === false || fastPathOf(args, env) === undefined) return run
    const parsed = yield* runToEnd(args, { ...options, env: { ...env, [FAST_PATH_SWITCH]: "off" } })
    assert.deepStrictEqual(
      comparable(run),
      comparable(parsed),
      `the fast path and the parser differ on ${args.join(" ")}`
    )
    return run
  })

const decodeEvent = Schema.decodeUnknownSync(CliEvents.CliEvent)

/** Every stdout line of a `--json` run, decoded with the exported schemas (a line that does not decode fails). */
export const eventsOf = (stdout: string): ReadonlyArray<CliEvents.CliEvent> =>
  stdout
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => decodeEvent(JSON.parse(line)))

/**
 * A LocalIssuer that approves every code at once, and a CODEX_HOME signed in to it (`login` run by the CLI) whose
 * stored access token was born expired; the tokens refreshes bring live an hour.
 */
export const expiredSignIn = Effect.gen(function* () {
  const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0, autoApproveAfter: "100 millis" })
  const home = yield* tempDir
  const env = { CODEX_HOME: home }
  const login = yield* runCli(["login", "--issuer", issuer.url], { env })
  assert.strictEqual(login.code, 0, login.stderr)
  yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
  return { issuer, home, env }
})

/** Someone else spends the refresh token stored in `home`'s auth.json at `issuer`, behind the CLI's back. */
export const spendStoredRefreshToken = (issuer: LocalIssuer.LocalIssuer, home: string) =>
  Effect.gen(function* () {
    const stored = JSON.parse(readFileSync(join(home, "auth.json"), "utf8"))
    const spent = yield* postJson(`${issuer.url}/oauth/token`, {
      client_id: issuer.clientId,
      grant_type: "refresh_token",
      refresh_token: stored.tokens.refresh_token
    })
    assert.strictEqual(spent.status, 200)
  })
