// How the bench starts `devicecode` and `node -e 0` as child processes.
import { Effect } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { openSync } from "node:fs"
import { devNull as devNullPath } from "node:os"
import { join } from "node:path"

/** The CLI's bin, as a user runs it (it runs the dist/bin bundle through its code cache). */
export const bin = join(import.meta.dirname ?? process.cwd(), "..", "bin", "devicecode.cjs")

/**
 * The bench's environment plus `extra`, without NODE_EXTRA_CA_CERTS: Node reads that bundle at every start (~35 ms
 * here), which would flatter every ratio to `node -e 0`.
 */
export const childEnv = (extra: Record<string, string>): NodeJS.ProcessEnv => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra }
  delete env.NODE_EXTRA_CA_CERTS
  return env
}

let devNullFd: number | undefined

/**
 * /dev/null opened write-only, as a shell's `>/dev/null`, for a child's stdout that is thrown away. Node's "ignore"
 * opens it read-write, which the CLI takes for a stdout closed at start (src/cli/terminal.ts): it then fails on its
 * first line of output.
 */
export const devNull = (): number => (devNullFd ??= openSync(devNullPath, "w"))

/** One whole-process run, waited for synchronously so that nothing else in the bench runs meanwhile. */
export interface Timed {
  readonly millis: number
  readonly code: number
  readonly stdout: string
}

/** Runs `node ...args` to its end: wall-clock milliseconds from spawn to exit, exit code and stdout. */
export const runTimed = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Timed => {
  const started = performance.now()
  const run = spawnSync(process.execPath, args, { env, stdio: ["ignore", "pipe", "ignore"], encoding: "utf8" })
  return { millis: performance.now() - started, code: run.status ?? -1, stdout: run.stdout ?? "" }
}

/** Runs `devicecode ...args` without waiting on the event loop's behalf: its exit code (-1 if killed). */
export const runCli = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): Effect.Effect<number> =>
  Effect.async<number>((resume) => {
    const child = spawn(process.execPath, [bin, ...args], { env, stdio: ["ignore", devNull(), "ignore"] })
    child.once("close", (code) => resume(Effect.succeed(code ?? -1)))
  })
