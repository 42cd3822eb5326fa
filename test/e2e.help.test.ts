// What a new user meets first: help, usage errors, the version, completions, flags that contradict each other, and
// `status` when the only sign-ins are named profiles. Child processes of the built CLI (stdout and stderr are pipes).
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { execFileSync } from "node:child_process"
import { writeFileSync } from "node:fs"
import { type AddressInfo, createServer } from "node:net"
import { join } from "node:path"
import { binPath, runCli } from "./support/cli.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { tempDir } from "./support/tmp.js"

const ESC = "\x1b"
const BOILERPLATE = ["A user-defined piece of text", "This setting is optional", "A true or false value", "An integer."]
const helpScreens = [[], ["login"], ["status"], ["token"], ["logout"], ["demo"], ["issuer"], ["completion"]]

describe("devicecode's help, usage errors and flags", () => {
  it.effect("help screens: no escape codes through a pipe or with NO_COLOR, our USAGE and descriptions only", () =>
    Effect.gen(function* () {
      for (const command of helpScreens) {
        for (const env of [{}, { NO_COLOR: "1" }]) {
          const help = yield* runCli([...command, "--help"], { env })
          const label = `${command.join(" ") || "devicecode"} --help ${JSON.stringify(env)}`
          assert.strictEqual(help.code, 0, label)
          assert.notInclude(help.stdout, ESC, label)
          for (const text of BOILERPLATE) assert.notInclude(help.stdout, text, label)
          for (const builtIn of ["--wizard", "--completions", "--log-level"]) assert.notInclude(help.stdout, builtIn)
          assert.notMatch(help.stdout, /^\$ (?!devicecode\b)/m, label)
          assert.notMatch(help.stdout, / +$/m, `${label}: trailing blanks`)
          assert.notMatch(help.stdout, /\n\n\n/, `${label}: runs of empty lines`)
        }
      }
      const login = yield* runCli(["login", "--help"])
      assert.include(
        login.stdout.split("\n").slice(0, 5).join("\n"),
        "$ devicecode login",
        "usage in the first 5 lines"
      )
      assert.match(login.stdout, /^USAGE\n\n\$ devicecode login \[--dialect codex \| rfc8628\]/m)
      assert.include(login.stdout, "Print one JSON event a line on stdout (NDJSON)")
      const status = yield* runCli(["status", "--help"])
      assert.notInclude(status.stdout, "one event a line", "status describes its own --json")
      assert.strictEqual((yield* runCli(["--version"])).stdout, "0.1.0\n")
    })
  )

  it.effect("on a terminal (script(1) gives it one) help keeps its colour, but not with NO_COLOR or --no-color", () =>
    Effect.sync(() => {
      const onTerminal = (command: string, env: Record<string, string> = {}) =>
        execFileSync("script", ["-qc", command, "/dev/null"], {
          encoding: "utf8",
          env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", TERM: "xterm", ...env }
        })
      const node = `${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)}`
      assert.include(onTerminal(`${node} login --help`), `${ESC}[`)
      assert.notInclude(onTerminal(`${node} login --help`, { NO_COLOR: "1" }), ESC)
      assert.notInclude(onTerminal(`${node} login --help --no-color`), ESC)
    })
  )

  it.effect("usage errors: one line naming the flag, the command's usage line, where help is; exit 2", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string, string]> = [
        [["login", "--issuer"], "--issuer needs a value: a URL", "login"],
        [["login", "--dialect"], "--dialect needs a value: one of codex, rfc8628", "login"],
        [["login", "--store"], "--store needs a value: one of file, keyring, auto, ephemeral", "login"],
        [["status", "--profile"], "--profile needs a value: a name", "status"],
        [["token", "--json", "--json"], "--json was given more than once", "token"],
        [["issuer", "--port", "abc"], "--port must be a whole number from 0 to 65535, not 'abc'", "issuer"],
        [["issuer", "--port", "99999"], "--port must be a whole number from 0 to 65535, not '99999'", "issuer"],
        [["issuer", "--port", "-1"], "--port must be a whole number from 0 to 65535, not '-1'", "issuer"],
        [
          ["issuer", "--auto-approve", "-5"],
          "--auto-approve must be a whole number from 0 to 86400, not '-5'",
          "issuer"
        ],
        [["login", "--dialect", "foo"], "--dialect must be one of codex, rfc8628, not 'foo'", "login"],
        [
          ["demo", "--codex-home", "/nonexistent"],
          "--codex-home must be an existing directory, not '/nonexistent'",
          "demo"
        ],
        [
          ["login", "--isuer", "https://x.test"],
          "unknown flag '--isuer' for 'login'; did you mean '--issuer'?",
          "login"
        ],
        [["status", "--bogus"], "unknown flag '--bogus' for 'status'", "status"],
        [["logn"], "unknown command 'logn'; did you mean 'login'?", ""],
        [["status", "--all", "--profile", "work"], "--all lists every profile: leave out --profile", "status"],
        [
          ["login", "--with-api-key", "--open"],
          "--with-api-key stores an API key and --open is for a device-code",
          "login"
        ],
        [
          ["login", "--with-api-key", "--dialect", "rfc8628"],
          "--with-api-key stores an API key and --dialect rfc8628",
          "login"
        ],
        [["login", "--scope", "openid email"], "--scope is for --dialect rfc8628", "login"],
        [["login", "--with-api-key", "--scope", "foo"], "--with-api-key stores an API key and --scope", "login"]
      ]
      for (const [args, message, command] of cases) {
        const result = yield* runCli(args, { env: { CODEX_HOME: yield* tempDir } })
        const label = `${args.join(" ")}: ${result.stderr}`
        assert.strictEqual(result.code, 2, label)
        // with --json, stdout has the error event (and nothing else)
        assert.strictEqual(
          result.stdout,
          args.includes("--json")
            ? `${JSON.stringify({ event: "error", code: "UsageError", reason: "InvalidValue", message })}\n`
            : "",
          label
        )
        const lines = result.stderr.trimEnd().split("\n")
        assert.strictEqual(lines.length, 3, label)
        assert.include(lines[0], message, label)
        if (command === "") {
          assert.deepStrictEqual(lines.slice(1), [
            "Usage: devicecode COMMAND [OPTIONS]",
            "Run 'devicecode --help' for the commands."
          ])
        } else {
          assert.match(lines[1]!, new RegExp(`^Usage: devicecode ${command} \\[--`), label)
          assert.strictEqual(lines[2], `Run 'devicecode ${command} --help' for more.`, label)
        }
      }
    }).pipe(Effect.scoped)
  )

  it.effect("issuer on a port another program holds: one line, no stack, exit 1", () =>
    Effect.gen(function* () {
      const holder = createServer()
      const port = yield* Effect.promise(
        () =>
          new Promise<number>((resolve) =>
            holder.listen(0, "127.0.0.1", () => resolve((holder.address() as AddressInfo).port))
          )
      )
      const result = yield* runCli(["issuer", "--port", String(port)])
      holder.close()
      assert.strictEqual(result.code, 1)
      assert.strictEqual(
        result.stderr,
        `Error: could not listen on 127.0.0.1:${port}: the port is taken by another program; choose another with --port (0: a free one)\n`
      )
    })
  )

  it.effect("devicecode help COMMAND is COMMAND --help (exit 0); help alone is --help", () =>
    Effect.gen(function* () {
      const viaHelp = yield* runCli(["help", "login"])
      assert.strictEqual(viaHelp.code, 0, viaHelp.stderr)
      assert.strictEqual(viaHelp.stdout, (yield* runCli(["login", "--help"])).stdout)
      assert.strictEqual((yield* runCli(["help"])).stdout, (yield* runCli(["--help"])).stdout)
    })
  )

  it.effect("help: each option on two lines, each choice listed once, placeholders that say what a value is", () =>
    Effect.gen(function* () {
      const login = (yield* runCli(["login", "--help"])).stdout
      assert.notInclude(login, "One of the following")
      assert.include(login, "--issuer URL\n  The issuer")
      assert.include(login, "[--profile NAME]")
      assert.include(login, "[--port PORT]")
      assert.notMatch(login, /\b(text|integer)\b/)
      assert.isAtMost(login.split("\n").length, 45)
      assert.match((yield* runCli(["--help"])).stdout, /^\$ devicecode COMMAND \[OPTIONS\]$/m)
      assert.notInclude((yield* runCli(["demo", "--help"])).stdout, "--json")
    })
  )

  it.effect("--wizard without a terminal refuses at once (exit 2) instead of waiting at a menu", () =>
    Effect.gen(function* () {
      const result = yield* runCli(["--wizard"]).pipe(Effect.timeout("10 seconds"))
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "--wizard asks its questions on a terminal")
    })
  )

  it.effect("--no-color is accepted by every command that prints", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      for (const args of [["status"], ["token"], ["logout"], ["status", "--all"]]) {
        const result = yield* runCli([...args, "--no-color"], { env: { CODEX_HOME: home } })
        assert.notStrictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`)
      }
      const help = yield* runCli(["--help", "--no-color"])
      assert.notInclude(help.stdout, ESC)
    }).pipe(Effect.scoped)
  )

  it.effect("completion bash offers each --store and --dialect value as a word of its own", () =>
    Effect.gen(function* () {
      const bash = yield* runCli(["completion", "bash"])
      assert.strictEqual(bash.code, 0)
      assert.include(bash.stdout, 'compgen -W "file keyring auto ephemeral"')
      assert.include(bash.stdout, 'compgen -W "codex rfc8628"')
      assert.notMatch(bash.stdout, /compgen -W "[^"]*,/)
      assert.notInclude(bash.stdout, "--wizard")
    })
  )

  it.effect("status with no default sign-in names the profiles there are, and exits 1", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      for (const name of ["example.com", "work"]) {
        writeFileSync(join(home, `auth.${name}.json`), freshChatgptAuthJson("rt_profiles"))
      }
      const status = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.strictEqual(status.code, 1)
      assert.include(status.stdout, "there is no default sign-in. Other profiles: example.com, work")
      assert.include(status.stdout, "devicecode status --all")
      const named = yield* runCli(["status", "--profile", "work"], { env: { CODEX_HOME: home } })
      assert.strictEqual(named.code, 0, named.stderr)
      const empty = yield* runCli(["status"], { env: { CODEX_HOME: yield* tempDir } })
      assert.strictEqual(empty.stdout, "Not logged in. To log in, run: devicecode login\n")
    }).pipe(Effect.scoped)
  )
})
