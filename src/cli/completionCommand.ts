import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { described } from "./described.js"

const shell = Args.choice([
  ["bash", "bash"],
  ["zsh", "zsh"],
  ["fish", "fish"]
] as const).pipe(Args.withDescription("The shell: bash, zsh or fish"))

/**
 * `devicecode completion SHELL`: the completion script @effect/cli writes for the whole command. `root` is a thunk
 * because the root command lists this one among its subcommands.
 */
export const completionCommand = <Name extends string, R, E, A>(root: () => Command.Command<Name, R, E, A>) =>
  Command.make("completion", { shell }, ({ shell }) =>
    Effect.gen(function* () {
      const lines =
        shell === "bash"
          ? yield* Command.getBashCompletions(root(), "devicecode")
          : shell === "zsh"
            ? yield* Command.getZshCompletions(root(), "devicecode")
            : yield* Command.getFishCompletions(root(), "devicecode")
      yield* Console.log(lines.join("\n"))
    })
  ).pipe(
    Command.withDescription(
      described(
        "Print a shell completion script for bash, zsh or fish",
        "devicecode completion bash > /etc/bash_completion.d/devicecode"
      )
    )
  )
