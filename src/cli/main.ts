import * as ValidationError from "@effect/cli/ValidationError"
import * as HttpClient from "@effect/platform/HttpClient"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as NodeTerminal from "@effect/platform-node/NodeTerminal"
import type { Teardown } from "@effect/platform/Runtime"
import type { ConfigError } from "../domain/Errors.js"
import { sanitize } from "../domain/Sanitize.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { cli } from "./Cli.js"
import { type AuthOptions, CliLayers } from "./CliLayers.js"
import { ExitCode } from "./exit.js"
import { withHttpLog } from "./httpLog.js"
import { printDefect, printError, usageErrorOf, wantsJson } from "./jsonOutput.js"
import * as Terminal from "./terminal.js"

// The composition root: the only place live layers are chosen. Only subpath modules are loaded: the NodeContext
// barrel costs start-up time every command would pay, and so would NodeHttpClient (it loads undici), so it is imported
// only when a command builds its services.
const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

// Node's HttpClient, loaded and built on the first request, not when a command builds its services: `token` with a
// fresh token and `logout` of nothing never load it.
const nodeHttp: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const client = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform-node/NodeHttpClient")).pipe(
        Effect.flatMap((http) => Layer.buildWithScope(http.layer, scope)),
        // the issuers turn trace headers off on the client they get; this one must not add them either
        Effect.map((context) => HttpClient.withTracerPropagation(Context.get(context, HttpClient.HttpClient), false))
      )
    )
    return HttpClient.make((request) => Effect.flatMap(client, (live) => live.execute(request)))
  })
)

// --verbose logs each exchange on stderr
const httpFor = (verbose: boolean): Layer.Layer<HttpClient.HttpClient> =>
  verbose
    ? Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, withHttpLog)).pipe(Layer.provide(nodeHttp))
    : nodeHttp

const onStoreFallback = (error: { readonly message: string }, file: string) =>
  Console.error(sanitize(`Warning: ${error.message}. Using ${file} instead.`))

// only for commands that asked for configErrors: "warn" (status, logout with --store)
const onConfigWarning = (error: ConfigError) =>
  Console.error(sanitize(`Warning: ${error.message}; going on with the defaults.`))

const cliLayers = Layer.succeed(CliLayers, {
  auth: ({ verbose = false, ...options }: AuthOptions) =>
    DeviceCodeAuth.layer({ onStoreFallback, onConfigWarning, ...options }).pipe(
      Layer.provide(Layer.merge(httpFor(verbose), platform))
    ),
  store: ({ verbose: _, ...options }: AuthOptions) =>
    DeviceCodeAuth.layerStore({ onStoreFallback, onConfigWarning, ...options }).pipe(Layer.provide(platform))
})

const live = Layer.mergeAll(platform, NodeTerminal.layer, Terminal.layer, cliLayers)

// Whether to print failures as JSON error events is decided from argv: a usage error fails before any handler runs.
const json = wantsJson(process.argv.slice(2))

// Error messages quote servers (an error description) and files: sanitised, as everything else printed.
const report = (error: { readonly _tag: string; readonly message: string }, code: number) =>
  Effect.as(json ? printError(error) : Console.error(`Error: ${sanitize(error.message)}`), code)

const program = Effect.suspend(() => cli(process.argv)).pipe(
  Effect.as<number>(ExitCode.ok),
  Effect.catchAll((error) => {
    // @effect/cli has already printed usage errors on stderr; the other tags are ours and carry a person's message.
    if (ValidationError.isValidationError(error)) {
      return json ? Effect.as(printError(usageErrorOf(error)), ExitCode.usage) : Effect.succeed(ExitCode.usage)
    }
    if (error._tag === "CliExit") return Effect.succeed(error.code)
    return report(error, ExitCode.failure)
  }),
  Effect.catchAllDefect((defect) =>
    Effect.as(
      json
        ? printDefect(Cause.die(defect))
        : Console.error(`Error: unexpected failure: ${sanitize(Cause.pretty(Cause.die(defect)), { multiline: true })}`),
      ExitCode.failure
    )
  ),
  Effect.provide(live)
)

// Ctrl-C interrupts the command's fiber; an interrupt-only exit is 130, as shells expect.
const teardown: Teardown = (exit, onExit) => {
  if (Exit.isSuccess(exit)) return onExit(typeof exit.value === "number" ? exit.value : ExitCode.ok)
  onExit(Cause.isInterruptedOnly(exit.cause) ? ExitCode.cancelled : ExitCode.failure)
}

NodeRuntime.runMain(program, { disableErrorReporting: true, teardown })
