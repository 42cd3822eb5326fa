// The fast path prints the same bytes and ends with the same exit code as @effect/cli's parser: every command line it
// takes runs against the built CLI twice, with DEVICECODE_FAST_PATH=off and without, in each sign-in state below.
// (test/support/cli.ts's runCli compares the two as well for every `status` command line the other CLI tests run;
// here each command line runs exactly twice.)
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { FAST_PATH_SWITCH, fastPathOf } from "../src/cli/fastPath.js"
import { booleanFlags, type FastCommand } from "../src/cli/flagTable.js"
import { encodeStoredAuth } from "../src/domain/StoredAuth.js"
import { type CliResult, comparable, expiredSignIn, runCli } from "./support/cli.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { oidcSignIn } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

/** Every subset of `command`'s boolean flags, each in the table's order, and the whole set reversed. */
const subsets = (command: FastCommand): ReadonlyArray<ReadonlyArray<string>> => {
  const flags = Object.values(booleanFlags[command]).map((name) => `--${name}`)
  const all = flags.reduce<ReadonlyArray<ReadonlyArray<string>>>(
    (sets, flag) => [...sets, ...sets.map((set) => [...set, flag])],
    [[]]
  )
  return [...all, [...flags].reverse()].map((args) => [command, ...args])
}

const every = [...subsets("status"), ...subsets("token")]
const some: ReadonlyArray<ReadonlyArray<string>> = [
  ["status"],
  ["status", "--json"],
  ["status", "--all"],
  ["status", "--all", "--json"],
  ["status", "--verbose"],
  ["token"],
  ["token", "--json"],
  ["token", "--verbose", "--no-color"]
]

/** Runs `args` in `home` with the fast path off, then on. */
const bothWays = (args: ReadonlyArray<string>, home: string, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    assert.isDefined(fastPathOf(args, {}), `${args.join(" ")} should take the fast path`)
    const off = yield* runCli(args, { env: { CODEX_HOME: home, ...env, [FAST_PATH_SWITCH]: "off" } })
    const on = yield* runCli(args, { env: { CODEX_HOME: home, ...env }, fastPathCheck: false })
    return { off, on }
  })

const assertSame = (args: ReadonlyArray<string>, state: string, off: CliResult, on: CliResult) =>
  assert.deepStrictEqual(comparable(on), comparable(off), `${state}: ${args.join(" ")}`)

/** A CODEX_HOME prepared by `write` (given the directory). */
const homeWith = (write: (home: string) => void) =>
  Effect.map(tempDir, (home) => {
    write(home)
    return home
  })

describe("the fast path and @effect/cli's parser print the same bytes (the built CLI)", () => {
  it.scopedLive(
    "every subset of the flags: signed in with ChatGPT, with an API key, and nobody signed in",
    () =>
      Effect.gen(function* () {
        const states = {
          chatgpt: yield* homeWith((home) => writeFileSync(join(home, "auth.json"), freshChatgptAuthJson("rt_fast"))),
          apiKey: yield* homeWith((home) =>
            writeFileSync(
              join(home, "auth.json"),
              JSON.stringify({ OPENAI_API_KEY: "sk-proj-fastpath-0123456789", tokens: null, last_refresh: null })
            )
          ),
          nobody: yield* tempDir
        }
        const checked = yield* Effect.forEach(
          Object.entries(states).flatMap(([state, home]) => every.map((args) => [state, home, args] as const)),
          ([state, home, args]) =>
            Effect.map(bothWays(args, home), ({ off, on }) => {
              assertSame(args, state, off, on)
              return off.code
            }),
          { concurrency: 4 }
        )
        // the states are what they say: some runs succeeded and some failed, with both paths alike
        assert.include(checked, 0)
        assert.include(checked, 1)
      }),
    120_000
  )

  it.scopedLive(
    "an RFC 8628 sign-in, a corrupt auth.json, only named profiles, a broken config.toml, a missing CODEX_HOME",
    () =>
      Effect.gen(function* () {
        const states = {
          oidc: yield* homeWith((home) => writeFileSync(join(home, "auth.json"), encodeStoredAuth(oidcSignIn()))),
          corrupt: yield* homeWith((home) => writeFileSync(join(home, "auth.json"), '{"tokens": {"access_token": ')),
          profilesOnly: yield* homeWith((home) => {
            mkdirSync(join(home, "profiles", "work"), { recursive: true })
            writeFileSync(join(home, "profiles", "work", "auth.json"), freshChatgptAuthJson("rt_work"))
          }),
          brokenConfig: yield* homeWith((home) => writeFileSync(join(home, "config.toml"), "model = [unclosed\n")),
          missing: join(yield* tempDir, "does-not-exist")
        }
        for (const [state, home] of Object.entries(states)) {
          for (const args of some) {
            const { off, on } = yield* bothWays(args, home)
            assertSame(args, state, off, on)
            if (state !== "oidc") assert.notStrictEqual(off.code, 0, `${state}: ${args.join(" ")} should fail`)
          }
        }
      }),
    120_000
  )

  it.scopedLive(
    "token when the stored token has expired: the same refresh, stderr and exit code (the new token is random)",
    () =>
      Effect.gen(function* () {
        for (const args of [["token"], ["token", "--verbose"], ["token", "--json"]]) {
          // each run its own sign-in: a refresh token, once spent by the first, would be a reused one for the second
          const runs = yield* Effect.forEach([true, false], (fast) =>
            Effect.gen(function* () {
              const { home } = yield* expiredSignIn
              const env = { CODEX_HOME: home, ...(fast ? {} : { [FAST_PATH_SWITCH]: "off" }) }
              const run = yield* runCli(args, { env })
              const stored = JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).tokens.access_token as string
              // the refreshed token is the one printed; the rest of the output is compared with it taken out
              assert.include(run.stdout, stored, args.join(" "))
              return {
                code: run.code,
                stdout: run.stdout.replaceAll(stored, "<token>").replace(/"expires_at":"[^"]+"/, '"expires_at":"…"'),
                stderr: run.stderr.replace(/\d+ ms/g, "N ms").replace(/127\.0\.0\.1:\d+/g, "127.0.0.1:PORT")
              }
            })
          )
          assert.deepStrictEqual(runs[0], runs[1], args.join(" "))
          assert.strictEqual(runs[0]!.code, 0, runs[0]!.stderr)
        }
      }),
    60_000
  )
})
