// The fast path (src/cli/fastPath.ts) is derived from the commands' @effect/cli definitions, not a second parser: for
// every subset and order of `status`'s and `token`'s boolean flags, the input it runs the handler with deep-equals
// what @effect/cli's parser hands a handler of the same options; everything else is left to the parser.
import * as Command from "@effect/cli/Command"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import { fastPathOf, FAST_PATH_SWITCH } from "../src/cli/fastPath.js"
import { booleanFlags, type FastCommand } from "../src/cli/flagTable.js"
import { statusConfig } from "../src/cli/statusCommand.js"
import { statusInput } from "../src/cli/statusRun.js"
import { tokenConfig } from "../src/cli/tokenCommand.js"
import { tokenInput } from "../src/cli/tokenRun.js"
import { VERSION } from "../src/version.js"
import { noTerminal } from "./support/terminal.js"

/** Every ordered selection of `items` without repeats: the empty one, each one alone, each pair both ways, … */
const arrangements = <A>(items: ReadonlyArray<A>): ReadonlyArray<ReadonlyArray<A>> => [
  [],
  ...items.flatMap((item, i) =>
    arrangements([...items.slice(0, i), ...items.slice(i + 1)]).map((rest) => [item, ...rest])
  )
]

/** What @effect/cli's parser hands the handler of `command`'s own options for `args`, or the failure. */
const parsed = (command: FastCommand, args: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    let input: unknown = undefined
    const capture = (value: unknown) => Effect.sync(() => void (input = value))
    const sub =
      command === "status" ? Command.make("status", statusConfig, capture) : Command.make("token", tokenConfig, capture)
    const root = Command.make("devicecode").pipe(Command.withSubcommands([sub]))
    const exit = yield* Command.run(root, { name: "devicecode", version: VERSION })([
      "node",
      "devicecode",
      command,
      ...args
    ]).pipe(Effect.provide(Layer.mergeAll(NodeFileSystem.layer, NodePath.layer, noTerminal)), Effect.exit)
    assert.isTrue(Exit.isSuccess(exit), `@effect/cli refused ${command} ${args.join(" ")}`)
    return input
  })

const inputOf = (args: ReadonlyArray<string>) => {
  const run = fastPathOf(args, {})
  if (run === undefined) return undefined
  return run.command === "status" ? statusInput(run.flags) : tokenInput(run.flags)
}

describe("the fast path, derived from the commands' @effect/cli options", () => {
  for (const command of ["status", "token"] as const) {
    const flags = Object.values(booleanFlags[command]).map((name) => `--${name}`)
    const all = arrangements(flags)

    it.effect(
      `${command}: every subset and order of its ${flags.length} boolean flags (${all.length} argv) runs the handler with what @effect/cli parses`,
      () =>
        Effect.gen(function* () {
          assert.strictEqual(all.length, command === "status" ? 65 : 16)
          for (const args of all) {
            const fast = inputOf([command, ...args])
            assert.isDefined(fast, `${command} ${args.join(" ")} should take the fast path`)
            assert.deepStrictEqual(fast, yield* parsed(command, args), `${command} ${args.join(" ")}`)
          }
        })
    )
  }

  it("declines everything else: value options, --, help, @effect/cli's built-ins, unknown, repeated or = forms", () => {
    const declined: ReadonlyArray<ReadonlyArray<string>> = [
      [],
      ["login"],
      ["logout", "--json"],
      ["demo"],
      ["help", "status"],
      ["status", "--profile", "work"],
      ["status", "--profile=work"],
      ["status", "--store", "file"],
      ["token", "--store", "keyring", "--json"],
      ["status", "--json", "--json"],
      ["token", "--verbose", "--json", "--verbose"],
      ["status", "--json=true"],
      ["status", "--all=false"],
      ["status", "--"],
      ["status", "--json", "--"],
      ["status", "--help"],
      ["status", "-h"],
      ["token", "--wizard"],
      ["status", "--completions", "bash"],
      ["status", "--version"],
      ["token", "--log-level", "debug"],
      ["status", "--bogus"],
      ["status", "--JSON"],
      ["status", "-j"],
      ["status", "json"],
      ["status", "extra"],
      ["token", "--all"],
      ["token", "--qr"],
      ["Status"],
      ["--json", "status"],
      ["--no-color", "token"]
    ]
    for (const args of declined) assert.isUndefined(fastPathOf(args, {}), args.join(" "))
  })

  it(`${FAST_PATH_SWITCH}=off sends every run to the parser`, () => {
    assert.deepStrictEqual(fastPathOf(["status"], {}), {
      command: "status",
      flags: { json: false, all: false, noColor: false, verbose: false }
    })
    assert.isUndefined(fastPathOf(["status"], { [FAST_PATH_SWITCH]: "off" }))
    assert.isUndefined(fastPathOf(["token", "--json"], { [FAST_PATH_SWITCH]: "off" }))
    assert.isDefined(fastPathOf(["token", "--json"], { [FAST_PATH_SWITCH]: "on" }))
  })
})
