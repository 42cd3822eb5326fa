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

// The built-in options the help does not show either
const hidden = /\s--(completions|log-level|wizard)\b/g

/**
 * @effect/cli's bash script with each value of a choice (`--store`, `--dialect`) offered as a word of its own: it
 * writes them as one comma-separated word (`compgen -W "file,keyring,auto,ephemeral"`). And without the built-in
 * options the help hides.
 */
export const tidyBashCompletions = (lines: ReadonlyArray<string>): ReadonlyArray<string> =>
  lines.map((line) =>
    line
      .replace(/compgen -W "([^"]*)"/g, (_, words: string) => `compgen -W "${words.split(",").join(" ")}"`)
      .replace(/^(\s*opts=".*)$/, (opts) => opts.replace(hidden, ""))
  )

/**
 * `devicecode completion SHELL`: the completion script @effect/cli writes for the whole command. `root` is a thunk
 * because the root command lists this one among its subcommands.
 */
export const completionCommand = <Name extends string, R, E, A>(root: () => Command.Command<Name, R, E, A>) =>
  Command.make("completion", { shell }, ({ shell }) =>
    Effect.gen(function* () {
      const lines =
        shell === "bash"
          ? tidyBashCompletions(yield* Command.getBashCompletions(root(), "devicecode"))
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
