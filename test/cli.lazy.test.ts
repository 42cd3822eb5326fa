// main.ts loads only the subcommand a run names (src/cli/Cli.ts). For every argv below, the tree it loads prints the
// same bytes and ends the same way as the whole tree, and help, completion and unknown words load the whole tree.
import * as Command from "@effect/cli/Command"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { devicecode, type SubcommandName, subcommandsFor } from "../src/cli/Cli.js"
import { CliLayers } from "../src/cli/CliLayers.js"
import { TerminalOutput } from "../src/cli/terminal.js"
import { noTerminal } from "./support/terminal.js"
import { VERSION } from "../src/version.js"

const output = Layer.succeed(TerminalOutput, {
  stdout: () => Effect.void,
  stderr: () => Effect.void,
  stdoutIsTty: false,
  stderrIsTty: false,
  color: false
})

// nothing here gets as far as a handler: every argv fails in parsing
const noLayers = Layer.succeed(CliLayers, {
  auth: () => Layer.die("no handler should run"),
  session: () => Layer.die("no handler should run"),
  store: () => Layer.die("no handler should run"),
  browser: Layer.die("no handler should run")
})

/** What the tree of `names` prints for `args`, and how the run ended. */
const runWith = (names: ReadonlyArray<SubcommandName>, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const printed: Array<string> = []
    const base = yield* Effect.console
    const record =
      (stream: string) =>
      (...parts: ReadonlyArray<unknown>) =>
        Effect.sync(() => void printed.push(`${stream}: ${parts.join(" ")}`))
    const command = yield* devicecode(names)
    const exit = yield* Command.run(command, { name: "devicecode", version: VERSION })([
      "node",
      "devicecode",
      ...args
    ]).pipe(
      Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, noTerminal, noLayers, output)),
      Effect.withConsole({ ...base, log: record("stdout"), error: record("stderr") }),
      Effect.exit
    )
    return { printed, exit: Exit.isSuccess(exit) ? "success" : JSON.stringify(Exit.causeOption(exit)) }
  })

const usageErrors: ReadonlyArray<ReadonlyArray<string>> = [
  ["status", "--bogus"],
  ["status", "--store", "nowhere"],
  ["status", "--profile"],
  ["token", "--json", "--bogus"],
  ["logout", "--verbose", "extra"],
  ["login", "--dialect", "smoke-signals"],
  ["login", "--issuer"],
  ["issuer", "--port", "http"],
  ["demo", "--store"]
]

describe("loading only the named subcommand", () => {
  it.effect("a usage error reads the same with one subcommand loaded as with all", () =>
    Effect.gen(function* () {
      for (const args of usageErrors) {
        const only = subcommandsFor(args)
        assert.deepStrictEqual(only, [args[0]!] as ReadonlyArray<string>, args.join(" "))
        const one = yield* runWith(only, args)
        const all = yield* runWith(subcommandsFor([]), args)
        assert.notStrictEqual(one.exit, "success", args.join(" "))
        assert.isAbove(one.printed.length, 0, args.join(" "))
        assert.deepStrictEqual(one, all, args.join(" "))
      }
    })
  )

  it.effect("a command's help reads the same with only that command loaded as with all", () =>
    Effect.gen(function* () {
      for (const name of ["login", "status", "token", "logout", "demo", "issuer"] as const) {
        for (const help of ["--help", "-h"]) {
          const args = [name, help]
          assert.deepStrictEqual(subcommandsFor(args), [name], args.join(" "))
          const one = yield* runWith([name], args)
          assert.include(one.printed.join("\n"), `devicecode ${name}`, args.join(" "))
          assert.deepStrictEqual(one, yield* runWith(subcommandsFor([]), args), args.join(" "))
        }
      }
    })
  )

  it("the overview's help, the version, completions, --wizard and unknown words load the whole tree", () => {
    const whole: ReadonlyArray<SubcommandName> = ["login", "status", "token", "logout", "demo", "issuer", "completion"]
    for (const args of [
      [],
      ["--help"],
      ["completion", "--help"],
      ["--version"],
      ["status", "--wizard"],
      ["--completions", "bash"],
      ["completion", "bash"],
      ["statsu"],
      ["--json", "status"]
    ]) {
      assert.deepStrictEqual(subcommandsFor(args), whole, args.join(" "))
    }
    assert.deepStrictEqual(subcommandsFor(["status", "--json"]), ["status"])
  })
})
