import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Console from "effect/Console"
import { readFileSync, readlinkSync } from "node:fs"
import { sanitize } from "../domain/Sanitize.js"

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

/** The process's own stdout and stderr (what runtime.ts provides); colour as the environment allows. */
export const make = (): TerminalOutput["Type"] => {
  const stderrIsTty = process.stderr.isTTY === true
  return {
    stdout: (text) => Effect.sync(() => void process.stdout.write(text)),
    stderr: (text) => Effect.sync(() => void process.stderr.write(text)),
    stdoutIsTty: process.stdout.isTTY === true,
    stderrIsTty,
    color: colorEnabled({ noColor: false, env: process.env, isTty: stderrIsTty })
  }
}

/** Runs `self` with colour off when `noColor` (the `--no-color` flag) says so. */
export const withNoColor =
  (noColor: boolean) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R | TerminalOutput> =>
    noColor ? Effect.updateService(self, TerminalOutput, (terminal) => ({ ...terminal, color: false })) : self

const safeArgs = (args: ReadonlyArray<unknown>) =>
  args.map((arg) => (typeof arg === "string" ? sanitize(arg, { multiline: true }) : arg))

/**
 * Runs a command's handler with a Console whose lines are {@link sanitize}d (newlines kept): whatever a server or a
 * file slipped into a line it prints shows as `\x1b…` instead of acting on the terminal. The renderers sanitise what
 * they print already; this is the net under them. Only for handlers: @effect/cli's help is coloured on purpose.
 */
export const withSafeConsole = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
  Effect.flatMap(Effect.console, (base) =>
    Effect.withConsole(self, {
      ...base,
      log: (...args) => base.log(...safeArgs(args)),
      info: (...args) => base.info(...safeArgs(args)),
      warn: (...args) => base.warn(...safeArgs(args)),
      error: (...args) => base.error(...safeArgs(args))
    } satisfies Console.Console)
  )

/** Why a write to stdout failed, in plain words, for the error line that ends the run. */
export const stdoutFailureMessage = (error: { readonly code?: unknown; readonly message?: unknown }): string => {
  const why =
    error.code === "ENOSPC"
      ? "no space left on the device"
      : error.code === "EPIPE"
        ? "the program reading it has closed the pipe"
        : error.code === "EBADF"
          ? "stdout is closed"
          : `${String(error.message ?? error.code)}`
  return `could not write the output to stdout (${why}); it is lost`
}

/**
 * Watches the process's stdout for a write that did not arrive (ENOSPC, EPIPE, EIO, …) and returns the first such
 * error. Node puts /dev/null (read-write) where a closed stdout was at start (`>&-`); Linux's /proc tells it from a
 * `>/dev/null` the caller chose (write-only), and then the first non-empty write counts as failed (EBADF).
 */
export const watchStdout = (stream: NodeJS.WriteStream = process.stdout): (() => NodeJS.ErrnoException | undefined) => {
  let failure: NodeJS.ErrnoException | undefined
  stream.on("error", (error: NodeJS.ErrnoException) => (failure ??= error))
  if (stream === process.stdout && closedAtStart()) {
    const write = stream.write.bind(stream) as (...args: ReadonlyArray<unknown>) => boolean
    stream.write = ((chunk: unknown, ...rest: ReadonlyArray<unknown>) => {
      if (typeof chunk === "string" ? chunk.length > 0 : (chunk as Uint8Array).byteLength > 0) {
        failure ??= Object.assign(new Error("EBADF: bad file descriptor, write"), { code: "EBADF" })
      }
      return write(chunk, ...rest)
    }) as typeof stream.write
  }
  return () => failure
}

// fd 1 is /dev/null opened read-write: what Node opens in place of a closed descriptor, not what `>/dev/null` opens
const closedAtStart = (): boolean => {
  try {
    if (readlinkSync("/proc/self/fd/1") !== "/dev/null") return false
    const flags = /^flags:\s+([0-7]+)$/m.exec(readFileSync("/proc/self/fdinfo/1", "utf8"))
    return flags !== null && (parseInt(flags[1]!, 8) & 3) === 2
  } catch {
    return false
  }
}
