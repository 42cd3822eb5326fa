import type * as HttpClient from "@effect/platform/HttpClient"
import * as Terminal from "@effect/platform/Terminal"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import type { Teardown } from "@effect/platform/Runtime"
import type { ConfigError } from "../domain/Errors.js"
import { sanitize } from "../domain/Sanitize.js"
import type { SpentRefreshWatch } from "../layers/AuthSession.js"
import type { RefreshInterrupted } from "../services/AuthSession.js"
import { type AuthOptions, CliLayers } from "./CliLayers.js"
import { type CliExit, ExitCode } from "./exit.js"
import { onFirstUse } from "./onFirstUse.js"
import { hasFlag } from "./argv.js"
import { withTidyCliText } from "./helpText.js"
import { withJsonOutput } from "./withJsonOutput.js"
import { refreshInterruptedText, spentRefreshWatchText } from "./render.js"
import * as TerminalOutput from "./terminal.js"

// The composition root: the only place live layers are chosen, and how a run of the CLI ends. Only subpath modules
// are loaded (the NodeContext barrel costs start-up time every command would pay), and what only some runs use is
// loaded when first used.
// Node's Terminal (stdin through readline) only for what reads input, @effect/cli's prompts: the rest of a run
// asks only for the size of stdout.
const nodeTerminal: Effect.Effect<Terminal.Terminal, never, Scope.Scope> = Effect.map(
  onFirstUse(Terminal.Terminal, () => import("@effect/platform-node/NodeTerminal").then((node) => node.layer)),
  (live) =>
    Terminal.Terminal.of({
      columns: Effect.sync(() => process.stdout.columns ?? 0),
      rows: Effect.sync(() => process.stdout.rows ?? 0),
      isTTY: Effect.sync(() => process.stdout.isTTY === true),
      readInput: Effect.flatMap(live, (terminal) => terminal.readInput),
      readLine: Effect.flatMap(live, (terminal) => terminal.readLine),
      display: (text) => Effect.flatMap(live, (terminal) => terminal.display(text))
    })
)

// the auto store's fallback happens on every command where there is no keyring: one short line, the reason with
// --verbose
const onStoreFallback =
  (verbose: boolean) =>
  (error: { readonly message: string }, file: string): Effect.Effect<void> =>
    Console.error(
      sanitize(
        verbose
          ? `Warning: ${error.message}. Using ${file} instead.`
          : `Warning: the OS keyring cannot be used (--verbose says why). Using ${file} instead.`
      )
    )

// a lock file another program holds for over 1 s: which one, who, and for how long at most
const onLockWait = (wait: { readonly message: string }) => Console.error(sanitize(wait.message))

// Ctrl-C while a refresh request was out: its answer is waited for and saved first, and stderr says so
const onInterruptedRefresh = (event: RefreshInterrupted) => Console.error(refreshInterruptedText(event))
// a refresh token another program spent: token says what it waits for before the watch begins
const onSpentRefreshWatch = (watch: SpentRefreshWatch) => Console.error(spentRefreshWatchText(watch))
const session = { onInterruptedRefresh, onSpentRefreshWatch }

// only for commands that asked for configErrors: "warn" (status, logout with --store)
const onConfigWarning = (error: ConfigError) =>
  Console.error(sanitize(`Warning: ${error.message}; going on with the defaults.`))

/** Node's HttpClient (with --verbose, logged): httpLayer.ts, loaded by the commands that may send a request. */
const http = (verbose: boolean): Layer.Layer<HttpClient.HttpClient> =>
  Layer.unwrapEffect(
    Effect.map(
      Effect.promise(() => import("./httpLayer.js")),
      (module) => module.httpFor(verbose)
    )
  )

/** The layer `load` makes once its module is loaded: each command loads the layer modules it uses, no others. */
const loaded = <A, E, R, M>(
  module: () => Promise<M>,
  make: (module: M) => Layer.Layer<A, E, R>
): Layer.Layer<A, E, R> => Layer.unwrapEffect(Effect.map(Effect.promise(module), make))

/** Who is told of a store's fallback, a config.toml warning and a lock wait: stderr. */
const told = (verbose: boolean) => ({ onStoreFallback: onStoreFallback(verbose), onConfigWarning, onLockWait })

const cliLayers = CliLayers.of({
  // the callback server (@effect/platform-node's HTTP server) is loaded by `login --browser` only
  browser: loaded(
    () => import("../layers/DeviceCodeAuth.js"),
    (auth) => auth.layerBrowserNode
  ),
  auth: ({ verbose = false, ...options }: AuthOptions) =>
    loaded(
      () => import("../layers/DeviceCodeAuth.js"),
      (auth) => auth.layer({ ...told(verbose), session, ...options }).pipe(Layer.provide(http(verbose)))
    ),
  // `token`: the session and its store, the issuer modules and the HTTP client loaded on a first refresh only
  session: ({ verbose = false, ...options }: AuthOptions) =>
    loaded(
      () => import("../layers/session.js"),
      (auth) => auth.layerSessionWith({ ...told(verbose), session, ...options }, http(verbose))
    ),
  // `status`, `logout`: the setup and the store only
  store: ({ verbose = false, ...options }: AuthOptions) =>
    loaded(
      () => import("../layers/setup.js"),
      (setup) => setup.layerStore({ ...told(verbose), ...options })
    )
})

// One layer that makes the services in turn: a graph of layers (one per service, merged) runs more of Effect's code
// than making them does, on every start.
const live = Layer.scopedContext(
  Effect.gen(function* () {
    const terminal = yield* nodeTerminal
    const fileSystem = yield* Layer.build(NodeFileSystem.layer)
    return Context.merge(fileSystem, yield* Layer.build(NodePath.layer)).pipe(
      Context.add(Terminal.Terminal, terminal),
      Context.add(TerminalOutput.TerminalOutput, TerminalOutput.make()),
      Context.add(CliLayers, cliLayers)
    )
  })
)

/** The process's arguments after node and the script. */
const args = process.argv.slice(2)

/** Whether failures print as JSON error events: decided from argv, as a usage error fails before any handler runs. */
export const json = hasFlag(args, "--json")

// Colour (help screens are coloured by @effect/cli) only on a terminal, without NO_COLOR, TERM=dumb or --no-color.
const color = (stream: NodeJS.WriteStream) =>
  TerminalOutput.colorEnabled({ noColor: hasFlag(args, "--no-color"), env: process.env, isTty: stream.isTTY === true })

// Error messages quote servers (an error description) and files: sanitised, as everything else printed.
const report = (error: { readonly _tag: string; readonly message: string }, code: number) =>
  Effect.as(
    json ? withJsonOutput((output) => output.printError(error)) : Console.error(`Error: ${sanitize(error.message)}`),
    code
  )

/** The services every command may ask for, as {@link runCli} provides them. */
export type CliServices = Layer.Layer.Success<typeof live>

/**
 * Runs a command (`run`, its exit code) as the CLI: a failure with a person's message is `Error: …` on stderr (or an
 * error event with --json) and exit 1, `CliExit` its own code, a defect `unexpected failure`; the live services
 * provided; then the exit and signal handling below. Both the full parser (fullMain.ts) and the fast path
 * (fastMain.ts) run through here, so that they print the same bytes.
 */
export const runCli = <E extends { readonly _tag: string; readonly message: string }>(
  run: Effect.Effect<number, E | CliExit, CliServices>
): void => {
  const program = run.pipe(
    Effect.catchAll((error) =>
      error._tag === "CliExit" ? Effect.succeed((error as CliExit).code) : report(error, ExitCode.failure)
    ),
    Effect.catchAllDefect((defect) =>
      Effect.as(
        json
          ? withJsonOutput((output) => output.printDefect(Cause.die(defect)))
          : Console.error(
              `Error: unexpected failure: ${sanitize(Cause.pretty(Cause.die(defect)), { multiline: true })}`
            ),
        ExitCode.failure
      )
    ),
    withTidyCliText({ stdout: color(process.stdout), stderr: color(process.stderr) }),
    Effect.provide(live)
  )
  // A write to stdout that did not arrive (a full disk, a closed pipe or descriptor) fails the run: an empty output
  // with exit 0 would pass for a result.
  stdoutFailure = TerminalOutput.watchStdout()
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, onSignal)
  NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
}

let stdoutFailure: () => NodeJS.ErrnoException | undefined = () => undefined

/**
 * Once the exit code is known, nothing is left to do but let stdout and stderr drain: exit then, instead of waiting
 * for the event loop to empty (V8's background compile jobs alone kept it alive for ~30 ms after `--help`).
 */
const exitWith = (code: number) => {
  process.exitCode = code
  process.stdout.write("", (error) => {
    const failure = stdoutFailure() ?? error ?? undefined
    if (failure === undefined) return process.stderr.write("", () => process.exit(code))
    const failed = code === ExitCode.ok ? ExitCode.failure : code
    process.exitCode = failed
    process.stderr.write(`Error: ${TerminalOutput.stdoutFailureMessage(failure)}\n`, () => process.exit(failed))
  })
}

// SIGINT and SIGTERM interrupt the command's fiber (NodeRuntime); which one came first decides the exit code. SIGHUP
// (the terminal closed) takes SIGTERM's path: NodeRuntime does not listen for it, and its default would end the process
// halfway through a write. What an interruption lets finish (the save of a refresh answer, at most about 5 s) a second
// signal abandons: the process ends at once, with the first signal's code.
type Signal = "SIGINT" | "SIGTERM" | "SIGHUP"
let signalled: Signal | undefined
let relaying = false
const signalCode = (signal: Signal | undefined) =>
  signal === "SIGHUP" ? ExitCode.hangUp : signal === "SIGTERM" ? ExitCode.terminated : ExitCode.cancelled
const onSignal = (signal: Signal) => {
  if (relaying) return
  if (signalled !== undefined) {
    process.stderr.write("Interrupted again: stopped at once.\n", () => process.exit(signalCode(signalled)))
    return
  }
  signalled = signal
  if (signal !== "SIGHUP") return
  relaying = true
  process.emit("SIGTERM", "SIGTERM")
  relaying = false
}

// An interrupt-only exit is 130 after Ctrl-C (SIGINT), 143 after SIGTERM and 129 after SIGHUP, as shells report them.
const teardown: Teardown = (exit) => {
  if (Exit.isSuccess(exit)) return exitWith(typeof exit.value === "number" ? exit.value : ExitCode.ok)
  if (!Cause.isInterruptedOnly(exit.cause)) return exitWith(ExitCode.failure)
  exitWith(signalCode(signalled))
}
