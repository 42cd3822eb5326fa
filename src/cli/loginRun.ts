// `devicecode login`'s handler and its device and API-key logins: no @effect/cli here, so that `login --help` does not
// evaluate the login's modules (loginCommand.ts loads this module when the command runs).
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { DeviceCode } from "../domain/DeviceCode.js"
import { ApiKeyInputError } from "../domain/Errors.js"
import type { LoginEvent } from "../domain/LoginEvent.js"
import { sanitize } from "../domain/Sanitize.js"
import { Setup } from "../layers/setup.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import type { IssuerResolver } from "../services/IssuerResolver.js"
import type { LoginFlow } from "../services/LoginFlow.js"
import { login, type LoginError } from "../services/login.js"
import { type ApiKeyLoginError, loginWithApiKey } from "../services/loginWithApiKey.js"
import type { WorkspacePolicy } from "../services/WorkspacePolicy.js"
import { loginRenderer, tellCancelled, tellLoggedIn } from "./loginOutcome.js"
import { openBrowser } from "./openBrowser.js"
import { qrCodeText } from "./qrCode.js"
import { TerminalOutput, withNoColor, withSafeConsole } from "./terminal.js"
import { type LoginRenderer, stdoutEscapes } from "./waitingScreen.js"
import { withJsonOutput } from "./withJsonOutput.js"

/** How a device login shows itself: HTTP log, NDJSON instead of text, a QR code, a browser opened. */
export interface DeviceLoginDisplay {
  readonly verbose: boolean
  readonly json: boolean
  readonly qr: boolean
  readonly open: boolean
  readonly noColor: boolean
  /** Runs beside the login (e.g. the demo's stand-in person); its lines go above the live status line. */
  readonly companion?: (say: (line: string) => Effect.Effect<void>) => Effect.Effect<void>
}

/** Device-code login rendered on the terminal, or as NDJSON on stdout with `json`, with the services in context. */
export const deviceLogin = (
  display: DeviceLoginDisplay
): Effect.Effect<
  void,
  LoginError,
  LoginFlow | IssuerResolver | CredentialStore | WorkspacePolicy | Setup | TerminalOutput
> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const screen = yield* loginRenderer(display.json)
    const qrColor = stdoutEscapes(yield* TerminalOutput)
    if (display.companion) {
      yield* Effect.forkIn(
        display.companion((line) => screen.print("stderr", `${sanitize(line)}\n`)),
        scope
      )
    }
    const onEvent = (event: LoginEvent) =>
      Effect.zipRight(
        screen.onEvent(event),
        event._tag === "CodeIssued" ? onCodeIssued(event.code, display, screen, scope, qrColor) : Effect.void
      )
    const result = yield* login({ onEvent }).pipe(
      Effect.ensuring(screen.close),
      Effect.onInterrupt(() => tellCancelled(display.json))
    )
    yield* tellLoggedIn(result, display.json)
  }).pipe(withNoColor(display.noColor), Effect.scoped)

/**
 * After the prompt: the QR code on stdout (never in JSON mode; in explicit colours when stdout takes escapes), and the
 * browser opened in the background.
 */
const onCodeIssued = (
  code: DeviceCode,
  display: DeviceLoginDisplay,
  screen: LoginRenderer,
  scope: Scope.Scope,
  qrColor: boolean
): Effect.Effect<void> => {
  const url = Option.getOrElse(code.verificationUriComplete, () => code.verificationUri)
  return Effect.zipRight(
    display.qr && !display.json
      ? Effect.flatMap(qrCodeText(url, { color: qrColor }), (qr) => screen.print("stdout", `${qr}\n\n`))
      : Effect.void,
    display.open
      ? Effect.asVoid(
          Effect.forkIn(
            openBrowser(url, (line) => screen.print("stderr", `${line}\n`)),
            scope
          )
        )
      : Effect.void
  )
}

const readStdin = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString("utf8")
})

/** What codex says once an API key is stored (0.169, 0.171): a key is not checked until it is used. */
export const API_KEY_SAVED = "API key saved. Authentication is checked when you send a request."

/** `login --with-api-key`: the {@link loginWithApiKey} program with the key from stdin, in the store in context. */
export const apiKeyLogin = (
  json: boolean
): Effect.Effect<void, ApiKeyLoginError, CredentialStore | WorkspacePolicy | Setup> =>
  Effect.gen(function* () {
    if (process.stdin.isTTY) return yield* new ApiKeyInputError({ reason: "Terminal", source: "stdin" })
    // codex's progress line, on stderr as codex writes it, before it looks at forced_login_method; --json keeps stderr
    // for errors only
    if (!json) yield* Console.error("Reading API key from stdin...")
    yield* loginWithApiKey({
      key: readStdin,
      source: "stdin",
      onEvent: (event) =>
        event._tag === "StoreSetAside"
          ? Console.error(`Warning: the unreadable sign-in was moved to ${event.keptAs}.`)
          : Effect.void
    })
    const { target } = yield* Setup
    yield* json
      ? withJsonOutput(({ CliEvents, printJson }) =>
          printJson(
            CliEvents.ApiKeyLoggedInEvent,
            new CliEvents.ApiKeyLoggedInEvent({ method: "apikey", profile: target.profile })
          )
        )
      : Console.log(API_KEY_SAVED)
  })

/** What `login`'s handler is given (its flags as loginFlags.ts parses them). */
export interface LoginInput {
  readonly flags: {
    readonly withApiKey: boolean
    readonly browser: boolean
    readonly json: boolean
    readonly qr: boolean
    readonly open: boolean
    readonly port: Option.Option<number>
  }
  readonly noColor: boolean
  readonly verbose: boolean
}

/** `devicecode login`: an API key from stdin, a browser login, or (the default) a device login. */
export const runLogin = ({ flags, noColor, verbose }: LoginInput) =>
  Effect.gen(function* () {
    if (flags.withApiKey) return yield* apiKeyLogin(flags.json)
    if (flags.browser) {
      // the callback server's HTTP modules load only for a browser login
      const { browserLoginRun } = yield* Effect.promise(() => import("./browserLoginRun.js"))
      return yield* browserLoginRun({ json: flags.json, noColor, port: flags.port, open: true })
    }
    yield* deviceLogin({ json: flags.json, qr: flags.qr, open: flags.open, noColor, verbose })
  }).pipe(withSafeConsole)
