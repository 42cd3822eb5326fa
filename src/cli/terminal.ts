import { Options } from "@effect/cli"
import { Context, Effect, Layer, Ref } from "effect"

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

/** The process's own stdout and stderr; `noColor` is the `--no-color` flag. */
export const layer = (options: { readonly noColor: boolean }): Layer.Layer<TerminalOutput> =>
  Layer.sync(TerminalOutput, () => {
    const stderrIsTty = process.stderr.isTTY === true
    return {
      stdout: (text) => Effect.sync(() => void process.stdout.write(text)),
      stderr: (text) => Effect.sync(() => void process.stderr.write(text)),
      stdoutIsTty: process.stdout.isTTY === true,
      stderrIsTty,
      color: colorEnabled({ noColor: options.noColor, env: process.env, isTty: stderrIsTty })
    }
  })

/** One write a {@link capture} terminal recorded. */
export interface CapturedWrite {
  readonly stream: "stdout" | "stderr"
  readonly text: string
}

/** A recording terminal for tests: its service, a layer of it, and every write so far, in order. */
export interface Capture {
  readonly terminal: TerminalOutput["Type"]
  readonly layer: Layer.Layer<TerminalOutput>
  readonly writes: Effect.Effect<ReadonlyArray<CapturedWrite>>
  /** Everything written to one stream, joined. */
  readonly text: (stream: "stdout" | "stderr") => Effect.Effect<string>
}

/** A terminal that records every write; the flags are the test's choice (default: not a terminal, no colour). */
export const capture = (
  flags: { readonly stdoutIsTty?: boolean; readonly stderrIsTty?: boolean; readonly color?: boolean } = {}
): Effect.Effect<Capture> =>
  Effect.gen(function* () {
    const log = yield* Ref.make<ReadonlyArray<CapturedWrite>>([])
    const record = (stream: CapturedWrite["stream"]) => (text: string) =>
      Ref.update(log, (writes) => [...writes, { stream, text }])
    const terminal: TerminalOutput["Type"] = {
      stdout: record("stdout"),
      stderr: record("stderr"),
      stdoutIsTty: flags.stdoutIsTty ?? false,
      stderrIsTty: flags.stderrIsTty ?? false,
      color: flags.color ?? false
    }
    return {
      terminal,
      layer: Layer.succeed(TerminalOutput, terminal),
      writes: Ref.get(log),
      text: (stream) =>
        Effect.map(Ref.get(log), (writes) =>
          writes
            .filter((write) => write.stream === stream)
            .map((write) => write.text)
            .join("")
        )
    }
  })
