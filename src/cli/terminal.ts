import { Options } from "@effect/cli"
import { Context, Effect, Layer } from "effect"

/** Where the CLI writes for a person, and what that terminal can show. */
export class TerminalOutput extends Context.Tag("devicecode/cli/TerminalOutput")<
  TerminalOutput,
  {
    readonly stdout: (text: string) => Effect.Effect<void>
    readonly stderr: (text: string) => Effect.Effect<void>
    readonly stdoutIsTty: boolean
    readonly stderrIsTty: boolean
    /**
     * Escape codes are welcome: no `NO_COLOR`, no `--no-color`, not `TERM=dumb`, and stderr (where the waiting
     * screen draws) is a terminal. Escapes on stdout also need `stdoutIsTty`.
     */
    readonly color: boolean
  }
>() {}

/** `--no-color`: plain lines, no escape codes (as the `NO_COLOR` environment variable does). */
export const noColor = Options.boolean("no-color").pipe(
  Options.withDescription("Print plain lines without colour, links or a live status line (as NO_COLOR=1 does)")
)

/** Whether escape codes are welcome: NO_COLOR counts when set to anything but "" (no-color.org). */
export const colorEnabled = (options: {
  readonly noColor: boolean
  readonly env: Readonly<Record<string, string | undefined>>
  readonly isTty: boolean
}): boolean =>
  !options.noColor &&
  (options.env.NO_COLOR === undefined || options.env.NO_COLOR === "") &&
  options.env.TERM !== "dumb" &&
  options.isTty

/** The process's own stdout and stderr (the live layer main.ts provides); colour as the environment allows. */
export const layer: Layer.Layer<TerminalOutput> = Layer.sync(TerminalOutput, () => {
  const stderrIsTty = process.stderr.isTTY === true
  return {
    stdout: (text) => Effect.sync(() => void process.stdout.write(text)),
    stderr: (text) => Effect.sync(() => void process.stderr.write(text)),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty,
    color: colorEnabled({ noColor: false, env: process.env, isTty: stderrIsTty })
  }
})

/** Runs `self` with colour off when `noColor` (the `--no-color` flag) says so. */
export const withNoColor =
  (noColor: boolean) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | TerminalOutput> =>
    noColor ? Effect.updateService(self, TerminalOutput, (terminal) => ({ ...terminal, color: false })) : self
