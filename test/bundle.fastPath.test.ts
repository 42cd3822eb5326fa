// The fast path (src/cli/fastPath.ts) runs `status` and `token` without evaluating a single @effect/cli module: seen
// in a variant of the CLI bundle whose every @effect/cli module writes its name to stderr when it is evaluated. And
// `token` with a fresh token evaluates no HTTP client module (the session builds its client on a first refresh).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { cliBuildOptions } from "../scripts/cliBundle.mjs"
import { FAST_PATH_SWITCH } from "../src/cli/fastPath.js"
import { evaluated, marking, variant } from "./support/bundleVariant.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { tempDir } from "./support/tmp.js"

const effectCli = /[\\/]@effect[\\/]cli[\\/]dist[\\/]esm[\\/].*\.js$/
const httpClient = /[\\/]@effect[\\/]platform[\\/]dist[\\/]esm[\\/](HttpClient|internal[\\/]httpClient)\.js$/

describe("the fast path in the CLI bundle", () => {
  it.scoped(
    "status and token with their boolean flags evaluate no @effect/cli module; the parser's runs do",
    () =>
      Effect.gen(function* () {
        const bin = yield* variant([...cliBuildOptions.plugins, marking(effectCli)])
        const signedIn = yield* tempDir
        writeFileSync(join(signedIn, "auth.json"), freshChatgptAuthJson("rt_bundle"))
        const nobody = yield* tempDir
        const fast: ReadonlyArray<readonly [ReadonlyArray<string>, string, number]> = [
          [["status"], signedIn, 0],
          [["status", "--json", "--all", "--verbose", "--no-color"], signedIn, 0],
          [["status"], nobody, 1],
          [["status", "--json"], nobody, 1],
          [["token"], signedIn, 0],
          [["token", "--json", "--verbose"], signedIn, 0],
          [["token"], nobody, 1],
          [["token", "--json"], nobody, 1]
        ]
        for (const [args, home, code] of fast) {
          const run = yield* evaluated(bin, args, home)
          assert.strictEqual(run.result.code, code, `${args.join(" ")}: ${run.stderr}`)
          assert.deepStrictEqual(run.modules, [], args.join(" "))
        }
        // the marks work: the same command lines through the parser, and what the fast path declines
        for (const [args, env] of [
          [["status"], { [FAST_PATH_SWITCH]: "off" }],
          [["token", "--json"], { [FAST_PATH_SWITCH]: "off" }],
          [["status", "--profile", "default"], {}],
          [["token", "--help"], {}]
        ] as const) {
          const run = yield* evaluated(bin, args, signedIn, env)
          assert.strictEqual(run.result.code, 0, `${args.join(" ")}: ${run.stderr}`)
          assert.includeMembers(run.modules, ["Command.js", "Options.js", "internal/cliApp.js"], args.join(" "))
        }
      }),
    60_000
  )

  it.scoped(
    "token with a fresh token evaluates no HTTP client module; a logout that revokes does",
    () =>
      Effect.gen(function* () {
        const bin = yield* variant([...cliBuildOptions.plugins, marking(httpClient)])
        const home = yield* tempDir
        writeFileSync(join(home, "auth.json"), freshChatgptAuthJson("rt_bundle_http"))
        for (const args of [["token"], ["token", "--json", "--verbose"]]) {
          const run = yield* evaluated(bin, args, home)
          assert.strictEqual(run.result.code, 0, `${args.join(" ")}: ${run.stderr}`)
          assert.deepStrictEqual(run.modules, [], args.join(" "))
        }
        // the marks work: logout revokes the tokens over HTTP (here a closed loopback port: a warning, then removed)
        const run = yield* evaluated(bin, ["logout"], home, {
          CODEX_REVOKE_TOKEN_URL_OVERRIDE: "http://127.0.0.1:9/revoke"
        })
        assert.strictEqual(run.result.code, 0, run.stderr)
        assert.includeMembers(run.modules, [
          "@effect/platform/dist/esm/HttpClient.js",
          "@effect/platform/dist/esm/internal/httpClient.js"
        ])
      }),
    60_000
  )
})
