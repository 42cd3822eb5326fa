// @effect/cli's prompt modules (Prompt.js, internal/prompt.js, internal/prompt/*.js) run only for --wizard, so the CLI
// bundle loads them on first use (lazyPrompts, scripts/lazyModules.mjs). Whether a module was evaluated is seen in a
// variant of the bundle, built with the same options (cliBuildOptions) plus a plugin that prepends a line to each
// prompt module writing its name to stderr; the same variant without lazyPrompts shows that the lines work. And
// --wizard, which does run them, still asks its questions in a real terminal (tmux).
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { cliBuildOptions, lazyPrompts } from "../scripts/cliBundle.mjs"
import { binPath } from "./support/cli.js"
import { evaluated, marking as markingOf, variant } from "./support/bundleVariant.js"
import { tempDir } from "./support/tmp.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const promptModule =
  /[\\/]@effect[\\/]cli[\\/]dist[\\/]esm[\\/](Prompt|internal[\\/]prompt|internal[\\/]prompt[\\/][\w-]+)\.js$/
const marking = markingOf(promptModule)

describe("the CLI bundle's prompt modules", () => {
  it.scoped("are evaluated by none of --help, login --help and status", () =>
    Effect.gen(function* () {
      assert.include(cliBuildOptions.plugins, lazyPrompts)
      const bin = yield* variant([...cliBuildOptions.plugins, marking])
      const home = yield* tempDir
      const help = yield* evaluated(bin, ["--help"], home)
      assert.deepStrictEqual(help.modules, [])
      assert.strictEqual(help.result.code, 0)
      assert.include(help.result.stdout, "USAGE")
      const loginHelp = yield* evaluated(bin, ["login", "--help"], home)
      assert.deepStrictEqual(loginHelp.modules, [])
      assert.strictEqual(loginHelp.result.code, 0)
      assert.include(loginHelp.result.stdout, "--issuer")
      const status = yield* evaluated(bin, ["status"], home)
      assert.deepStrictEqual(status.modules, [])
      assert.strictEqual(status.result.code, 1)
      assert.include(status.result.stdout + status.stderr, "Not logged in")
    })
  )

  it.scoped("are evaluated by --help without lazyPrompts: the marks show an evaluation", () =>
    Effect.gen(function* () {
      const bin = yield* variant([...cliBuildOptions.plugins.filter((plugin) => plugin !== lazyPrompts), marking])
      const help = yield* evaluated(bin, ["--help"], yield* tempDir)
      assert.strictEqual(help.result.code, 0)
      assert.includeMembers(help.modules, [
        "internal/prompt.js",
        "internal/prompt/select.js",
        "internal/prompt/toggle.js"
      ])
    })
  )

  it("are behind stand-ins in the built bundle (dist/bundle-inputs.json)", () => {
    const inputs: ReadonlyArray<string> = JSON.parse(readFileSync(join(root, "dist/bundle-inputs.json"), "utf8"))
    const standIns = inputs
      .filter((input) => input.startsWith("lazy-module:"))
      .map((input) => input.replace(/^.*\//, ""))
    assert.includeMembers(standIns, ["prompt.js", "select.js", "toggle.js", "number.js", "text.js"])
    // the real modules are in the bundle too, for --wizard
    assert.isTrue(
      inputs.some((input) => /(^|\/)node_modules\/@effect\/cli\/dist\/esm\/internal\/prompt\/select\.js$/.test(input))
    )
  })
})

// --wizard in a real terminal: a tmux server of its own, as in test/e2e.tmux.test.ts
const tmuxInstalled = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0
const tmuxRequired = process.env.DEVICECODE_REQUIRE_TMUX === "1"
const suite = tmuxInstalled || tmuxRequired ? describe : describe.skip
const title = tmuxInstalled
  ? "--wizard in a real terminal (tmux)"
  : "--wizard in a real terminal (skipped: tmux is not installed; DEVICECODE_REQUIRE_TMUX=1 makes this fail)"

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`

const tmuxServer = Effect.gen(function* () {
  const dir = yield* tempDir
  const config = join(dir, "tmux.conf")
  writeFileSync(config, "set -g remain-on-exit on\nset -g history-limit 1000\n")
  const socket = `devicecode-test-${process.pid}-${Math.random().toString(36).slice(2)}`
  const { TMUX: _outer, ...inherited } = process.env
  const env = { ...inherited, LANG: "C.UTF-8", LC_ALL: "C.UTF-8" }
  const tmux = (...args: ReadonlyArray<string>) =>
    Effect.sync(() => execFileSync("tmux", ["-u", "-L", socket, "-f", config, ...args], { encoding: "utf8", env }))
  yield* Effect.addFinalizer(() => Effect.sync(() => spawnSync("tmux", ["-L", socket, "kill-server"], { env })))
  return tmux
})

/** Polls the pane until it shows `pattern`; dies with what it showed after 20 s. */
const waitFor = (pane: Effect.Effect<string>, pattern: RegExp) => {
  let last = ""
  return Effect.gen(function* () {
    while (true) {
      last = yield* pane
      if (pattern.test(last)) return last
      yield* Effect.sleep("100 millis")
    }
  }).pipe(
    Effect.timeoutFail({
      duration: 20_000,
      onTimeout: () => `tmux: no ${pattern} within 20 s; the pane shows:\n${last}`
    }),
    Effect.orDie
  )
}

suite(title, () => {
  it.scopedLive("asks which command, then the chosen command's options (select, toggle)", () =>
    Effect.gen(function* () {
      if (!tmuxInstalled) return assert.fail("DEVICECODE_REQUIRE_TMUX=1 but tmux is not installed")
      // before the server, so that it is removed after the server and the CLI in it are gone
      const home = yield* tempDir
      const tmux = yield* tmuxServer
      const command = [
        // no code cache: the CLI would write it on its way out, after the test
        "exec env -u NO_COLOR DEVICECODE_CODE_CACHE=off",
        `CODEX_HOME=${quote(home)}`,
        quote(process.execPath),
        quote(binPath),
        "--wizard"
      ].join(" ")
      yield* tmux("new-session", "-d", "-s", "wizard", "-x", "100", "-y", "30", command)
      const pane = tmux("capture-pane", "-p", "-S", "-", "-t", "wizard")
      const first = yield* waitFor(pane, /Select which command you would like to execute[\s\S]*completion/)
      assert.match(first, /❯ login/)
      // the second command, status, whose first option (--json) is asked with a toggle
      yield* tmux("send-keys", "-t", "wizard", "Down", "Enter")
      const second = yield* waitFor(pane, /Options Wizard - status[\s\S]*--json[\s\S]*Select true or false/)
      assert.include(second, "COMMAND: devicecode status")
      yield* tmux("send-keys", "-t", "wizard", "Enter")
      yield* waitFor(pane, /--all[\s\S]*Select true or false/)
    })
  )
})
