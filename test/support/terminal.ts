import * as Terminal from "@effect/platform/Terminal"
import { Effect, Layer, Ref } from "effect"
import { TerminalOutput } from "../../src/cli/terminal.js"

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

/** A terminal for @effect/cli that is no terminal: 100×30, not a TTY; nothing in the tests that use it prompts. */
export const noTerminal = Layer.succeed(Terminal.Terminal, {
  columns: Effect.succeed(100),
  rows: Effect.succeed(30),
  isTTY: Effect.succeed(false),
  readInput: Effect.die("no terminal input in tests"),
  readLine: Effect.die("no terminal input in tests"),
  display: () => Effect.void
})
