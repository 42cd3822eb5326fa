// The fast path's run: `status` or `token` with only boolean flags, their handlers and layers as @effect/cli would run
// them (statusCommand.ts and tokenCommand.ts make their commands of the same functions), without loading @effect/cli.
import * as Effect from "effect/Effect"
import { ExitCode } from "./exit.js"
import type { FastRun } from "./fastPath.js"
import { runCli } from "./runtime.js"
import { statusLayer, tokenLayer } from "./commandLayers.js"
import { runStatus, statusInput } from "./statusRun.js"
import { runToken, tokenInput } from "./tokenRun.js"

/** The handler of `run`'s command on the input its flags make, with the command's layer. */
const handle = (run: FastRun) => {
  switch (run.command) {
    case "status": {
      const input = statusInput(run.flags)
      return Effect.provide(runStatus(input), statusLayer(input))
    }
    case "token": {
      const input = tokenInput(run.flags)
      return Effect.provide(runToken(input), tokenLayer(input))
    }
  }
}

/** Runs `run` as the CLI runs a command. */
export const main = (run: FastRun): void => runCli(Effect.as(handle(run), ExitCode.ok))
