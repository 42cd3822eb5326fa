import { ValidationError } from "@effect/cli"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import type { Teardown } from "@effect/platform/Runtime"
import { Cause, Console, Effect, Exit, Layer } from "effect"
import { cli } from "./Cli.js"
import { CliLayers } from "./CliLayers.js"
import { ExitCode } from "./exit.js"

// The only place live layers are chosen. Only subpath modules are loaded: the NodeContext barrel costs start-up time
// every command would pay, and so would NodeHttpClient (it loads undici), so it is imported only when a command uses
// the network.
const live = Layer.mergeAll(
  NodeFileSystem.layer,
  NodePath.layer,
  NodeTerminal.layer,
  Layer.succeed(CliLayers, {
    httpClient: Layer.unwrapEffect(
      Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(Effect.map((http) => http.layer))
    )
  })
)

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.as<number>(ExitCode.ok),
  Effect.catchAll((error) => {
    // @effect/cli has already printed usage errors; the other tags are ours and carry a person's message.
    if (ValidationError.isValidationError(error)) return Effect.succeed(ExitCode.usage)
    if (error._tag === "CliExit") return Effect.succeed(error.code)
    if (error._tag === "UsageError") return Effect.as(Console.error(`Error: ${error.message}`), ExitCode.usage)
    return Effect.as(Console.error(`Error: ${error.message}`), ExitCode.failure)
  }),
  Effect.catchAllDefect((defect) =>
    Effect.as(Console.error(`Error: unexpected failure: ${Cause.pretty(Cause.die(defect))}`), ExitCode.failure)
  ),
  Effect.provide(live)
)

// Ctrl-C interrupts the command's fiber; an interrupt-only exit is 130, as shells expect.
const teardown: Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(typeof exit.value === "number" ? exit.value : ExitCode.ok)
  onExit(Cause.isInterruptedOnly(exit.cause) ? ExitCode.cancelled : ExitCode.failure)
}

NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
