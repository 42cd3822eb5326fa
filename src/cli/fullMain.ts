// A run that goes through @effect/cli's parser: every command line the fast path (fastPath.ts) declines.
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { sanitize } from "../domain/Sanitize.js"
import { hasFlag } from "./argv.js"
import { cli } from "./Cli.js"
import { ExitCode } from "./exit.js"
import { json, runCli } from "./runtime.js"
import { withJsonOutput } from "./withJsonOutput.js"

/** A usage error of @effect/cli as a `UsageError` whose reason is its kind (`InvalidValue`, `MissingValue`, …). */
export const usageErrorOf = (error: ValidationError.ValidationError) => ({
  _tag: "UsageError",
  reason: error._tag,
  // eslint-disable-next-line no-control-regex
  message: sanitize(
    HelpDoc.toAnsiText(error.error)
      .replace(/\x1b\[[0-9;]*m/g, "")
      .trim(),
    { multiline: true }
  )
})

// @effect/cli's wizard asks its questions on the terminal; with stdin not one it would wait for ever.
const wizardWithoutTerminal = hasFlag(process.argv.slice(2), "--wizard") && process.stdin.isTTY !== true

/** Parses argv with @effect/cli and runs the command it names. */
export const main = (): void =>
  runCli(
    wizardWithoutTerminal
      ? Effect.as(
          Console.error(
            "Error: --wizard asks its questions on a terminal, and stdin is not one; give the options instead"
          ),
          ExitCode.usage
        )
      : Effect.suspend(() => cli(process.argv)).pipe(
          Effect.as(ExitCode.ok),
          // @effect/cli has already printed usage errors on stderr; with --json the error event goes to stdout
          Effect.catchIf(ValidationError.isValidationError, (error) =>
            json
              ? Effect.as(
                  withJsonOutput((output) => output.printError(usageErrorOf(error))),
                  ExitCode.usage
                )
              : Effect.succeed(ExitCode.usage)
          )
        )
  )
