import * as Data from "effect/Data"

/** Ends the command with this exit code; whatever the person needs to read was already printed. */
export class CliExit extends Data.TaggedError("CliExit")<{ readonly code: number }> {}

/** Documented exit codes. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  /** SIGHUP: the terminal closed. */
  hangUp: 129,
  /** Ctrl-C (SIGINT). */
  cancelled: 130,
  /** SIGTERM. */
  terminated: 143
} as const
