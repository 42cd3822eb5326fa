import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { binPath } from "./support/cli.js"
import { tempDir } from "./support/tmp.js"

const tmuxInstalled = spawnSync("tmux", ["-V"], { stdio: "ignore" }).status === 0
const tmuxRequired = process.env.DEVICECODE_REQUIRE_TMUX === "1"
const suite = tmuxInstalled || tmuxRequired ? describe : describe.skip
const title = tmuxInstalled
  ? "the waiting screen and --wizard in a real terminal (tmux)"
  : "the waiting screen and --wizard in a real terminal (skipped: tmux is not installed; DEVICECODE_REQUIRE_TMUX=1 makes this fail)"

const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`
const countdownPattern = /Code valid for (\d\d:\d\d)/
const spinnerPattern = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]/

/** A tmux server of its own (own socket, no user config), killed with the scope. */
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

/** Polls `read` until `check` accepts it; dies with the last value read after `timeoutMs`. */
const waitUntil = <A>(
  what: string,
  read: Effect.Effect<string>,
  check: (text: string) => A | undefined,
  timeoutMs = 20_000
) => {
  let last = ""
  return Effect.gen(function* () {
    while (true) {
      last = yield* read
      const result = check(last)
      if (result !== undefined) return result
      yield* Effect.sleep("100 millis")
    }
  }).pipe(
    Effect.timeoutFail({
      duration: timeoutMs,
      onTimeout: () => `tmux: no ${what} within ${timeoutMs} ms; the pane shows:\n${last}`
    }),
    Effect.orDie
  )
}

/** A check for {@link waitUntil}: the text, once it matches `pattern`. */
const matching = (pattern: RegExp) => (text: string) => (pattern.test(text) ? text : undefined)

/** The pane as a person saw it: without tmux's "Pane is dead" line and the empty rows below the output. */
const trimPane = (text: string) =>
  text
    .split("\n")
    .filter((line) => !line.startsWith("Pane is dead"))
    .join("\n")
    .replace(/\s+$/, "")

suite(title, () => {
  it.scopedLive("the status line counts down in place and Ctrl-C leaves a clean line", () =>
    Effect.gen(function* () {
      if (!tmuxInstalled) return assert.fail("DEVICECODE_REQUIRE_TMUX=1 but tmux is not installed")
      const tmux = yield* tmuxServer
      const home = yield* tempDir
      const command = [
        "exec env -u NO_COLOR",
        `CODEX_HOME=${quote(home)}`,
        quote(process.execPath),
        quote(binPath),
        "demo --manual --codex-home",
        quote(home)
      ].join(" ")
      yield* tmux("new-session", "-d", "-s", "demo", "-x", "100", "-y", "30", command)
      // From the start of the history: tmux's own "Pane is dead" line at the bottom can scroll the first line off.
      const pane = tmux("capture-pane", "-p", "-S", "-", "-t", "demo")

      const first = yield* waitUntil("countdown", pane, (text) => countdownPattern.exec(text)?.[1])
      const before = yield* waitUntil("countdown change", pane, (text) => {
        const now = countdownPattern.exec(text)?.[1]
        return now !== undefined && now !== first ? text : undefined
      })
      console.log(`tmux pane while waiting (100x30):\n${trimPane(before)}`)
      assert.include(before, "one-time code (valid for 15 minutes):")
      assert.strictEqual(before.match(/Code valid for/g)?.length, 1, "one status line, redrawn in place")
      assert.match(before, spinnerPattern)
      assert.notInclude(before, "Waiting for the code to be approved", "no plain lines on a terminal")

      yield* tmux("send-keys", "-t", "demo", "C-c")
      const after = yield* waitUntil("Login cancelled", pane, (text) =>
        text.includes("Login cancelled") ? text : undefined
      )
      // The process ends. tmux 3.3 reports the exit status a moment after the pane died, and sometimes never
      // (pane_dead_status stays empty): it is checked when known (e2e.cli.test.ts checks 130 on every run).
      const deadPane = tmux("display-message", "-p", "-t", "demo", "#{pane_dead} #{pane_dead_status}")
      yield* waitUntil("exit", deadPane, (text) => (text.startsWith("1") ? true : undefined))
      const exitStatus = yield* waitUntil("exit status", deadPane, (text) => /^1 (\d+)/.exec(text)?.[1], 2_000).pipe(
        Effect.catchAllDefect(() => Effect.succeed(""))
      )
      console.log(`tmux pane after Ctrl-C (exit status ${exitStatus || "not reported by tmux"}):\n${trimPane(after)}`)
      if (exitStatus) assert.strictEqual(exitStatus, "130", "Ctrl-C exits 130")
      const lines = after.split("\n")
      const cancelled = lines.findIndex((line) => line.startsWith("Login cancelled"))
      assert.isAbove(cancelled, 0)
      assert.strictEqual(lines[cancelled - 1], "", "the status line was cleared (^C echo included)")
      assert.notMatch(after, countdownPattern)
      assert.notMatch(after, spinnerPattern)
      assert.include(after, "one-time code (valid for 15 minutes):", "the prompt stays")
    })
  )

  // @effect/cli's prompt modules are behind stand-ins in the bundle (test/bundle.lazyPrompt.test.ts): the wizard runs them
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
      const first = yield* waitUntil(
        "the command menu",
        pane,
        matching(/Select which command you would like to execute[\s\S]*completion/)
      )
      assert.match(first, /❯ login/)
      // the second command, status, whose first option (--json) is asked with a toggle
      yield* tmux("send-keys", "-t", "wizard", "Down", "Enter")
      const second = yield* waitUntil(
        "status's first option",
        pane,
        matching(/Options Wizard - status[\s\S]*--json[\s\S]*Select true or false/)
      )
      assert.include(second, "COMMAND: devicecode status")
      yield* tmux("send-keys", "-t", "wizard", "Enter")
      yield* waitUntil("status's second option", pane, matching(/--all[\s\S]*Select true or false/))
    })
  )
})
