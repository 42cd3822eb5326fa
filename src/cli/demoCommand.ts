import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as FileSystem from "@effect/platform/FileSystem"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codexEndpoints } from "../domain/CodexConstants.js"
import { ConfigError } from "../domain/Errors.js"
import { CliLayers } from "./CliLayers.js"
import { existingDirectory, noColor, store, verbose } from "./environment.js"
import { described } from "./described.js"
import { openOption, qrFlag } from "./loginFlags.js"
import { withSafeConsole } from "./terminal.js"
import { demoApprovalDelay } from "../services/schedules.js"

const codexHome = existingDirectory("codex-home").pipe(
  Options.optional,
  Options.withDescription("Sign in into this CODEX_HOME and keep it (default: a temporary one, removed at the end)")
)
const manual = Options.boolean("manual").pipe(
  Options.withDescription("Do not approve automatically: open the printed page and approve the code yourself")
)
const browser = Options.boolean("browser").pipe(
  Options.withDescription(
    "Sign in as login --browser does (the local issuer's sign-in page) instead of with a device code"
  )
)

// --qr draws the device code's link, which a browser login has none of
const way = Options.all({ browser, qr: qrFlag() }).pipe(
  Options.mapEffect((flags) =>
    flags.browser && flags.qr
      ? Effect.fail(
          ValidationError.invalidValue(
            HelpDoc.p(
              "--qr is for a device code (a phone can approve it) and --browser signs in on this machine: leave out one"
            )
          )
        )
      : Effect.succeed(flags)
  )
)

/** The test kit, loaded only by the commands that run it: `status` and `token` never evaluate it. */
export const loadTestKit = Effect.promise(() => import("../testing/index.js"))

/** `devicecode demo`: a whole login against the embedded LocalIssuer. */
export const demoCommand = Command.make(
  "demo",
  { codexHome, manual, how: way, store, open: openOption, noColor, verbose },
  (options) =>
    Effect.scoped(
      Effect.gen(function* () {
        const fs = yield* FileSystem.FileSystem
        const layers = yield* CliLayers
        const { LocalIssuer, submitAuthorization, submitUserCode } = yield* loadTestKit
        const issuer = yield* LocalIssuer.make()
        const home = yield* Option.match(options.codexHome, {
          onSome: Effect.succeed,
          onNone: () =>
            fs
              .makeTempDirectoryScoped({ prefix: "devicecode-demo-" })
              .pipe(
                Effect.mapError(
                  (error) =>
                    new ConfigError({ reason: "CodexHome", path: "(temporary directory)", detail: error.message })
                )
              )
        })
        yield* Console.error(`Demo: a local issuer runs at ${issuer.url}; CODEX_HOME is ${home}`)
        if (Option.isNone(options.codexHome)) yield* Console.error("(the temporary CODEX_HOME is removed at the end)")
        const verification = codexEndpoints(issuer.url).verification
        // A person reads the code, opens the page, types it and presses Approve a few seconds later.
        const person = (say: (line: string) => Effect.Effect<void>) =>
          issuer.nextCode.pipe(
            Effect.tap(() => Effect.sleep(demoApprovalDelay)),
            Effect.tap((userCode) => say(`Demo: approving ${userCode} on ${verification}`)),
            Effect.flatMap((userCode) => submitUserCode(verification, userCode)),
            Effect.asVoid,
            Effect.catchAll((error) => say(`Demo: could not approve: ${error.message}`))
          )
        // the issuer's URL is known only now, so the services come from the root's factory here, not Command.provide
        const auth = layers.auth({
          ...Option.match(options.store, { onNone: () => ({}), onSome: (store) => ({ store }) }),
          codexHome: home,
          issuer: issuer.url,
          clientId: issuer.clientId,
          verbose: options.verbose
        })
        // A person at the browser reads the sign-in page and presses Approve a few seconds later.
        const personAtBrowser = (url: string, say: (line: string) => Effect.Effect<void>) =>
          Effect.sleep(demoApprovalDelay).pipe(
            Effect.zipRight(say(`Demo: approving the sign-in on ${issuer.url}/oauth/authorize`)),
            Effect.zipRight(submitAuthorization(url)),
            Effect.asVoid,
            Effect.catchAll((error) => say(`Demo: could not approve: ${error.message}`))
          )
        const signIn = options.how.browser
          ? Effect.flatMap(
              Effect.promise(() => import("./browserLoginRun.js")),
              ({ browserLoginRun }) =>
                browserLoginRun({
                  json: false,
                  noColor: options.noColor,
                  port: Option.some(0),
                  open: options.manual || options.open,
                  ...(options.manual ? {} : { companion: personAtBrowser })
                })
            )
          : Effect.flatMap(
              Effect.promise(() => import("./loginRun.js")),
              ({ deviceLogin }) =>
                deviceLogin({
                  verbose: options.verbose,
                  json: false,
                  qr: options.how.qr,
                  open: options.open,
                  noColor: options.noColor,
                  ...(options.manual ? {} : { companion: person })
                })
            )
        // the login's and status's modules load when the demo runs, not for --help
        const { loadStatus, printStatus } = yield* Effect.promise(() => import("./statusRun.js"))
        yield* Effect.gen(function* () {
          yield* signIn
          yield* Console.log("")
          yield* printStatus(yield* loadStatus, false)
        }).pipe(Effect.provide(auth))
      })
    ).pipe(withSafeConsole)
).pipe(
  Command.withDescription(
    described("Run a whole login against an embedded local issuer, in a temporary CODEX_HOME", "devicecode demo --qr")
  )
)
