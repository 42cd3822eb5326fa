import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { parseApiKeyInput } from "../domain/ApiKey.js"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../domain/CodexWire.js"
import { ApiKeyInputError, type LoginMethodError, type StoreError } from "../domain/Errors.js"
import { validateIssuerUrl } from "../domain/IssuerUrl.js"
import type { DeviceCode } from "../domain/DeviceCode.js"
import type { LoginEvent } from "../domain/LoginEvent.js"
import { DEFAULT_PROFILE, resolveLoginTarget } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { apiKeyAuth } from "../domain/StoredAuth.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import * as OidcIssuer from "../layers/OidcIssuer.js"
import { CredentialStore, loadOrSetAside } from "../services/CredentialStore.js"
import type { LoginFlow } from "../services/LoginFlow.js"
import type { IssuerResolver } from "../services/IssuerResolver.js"
import { login, type LoginError } from "../services/login.js"
import { checkLoginMethod, type WorkspacePolicy } from "../services/WorkspacePolicy.js"
import { authFor } from "./CliLayers.js"
import { profile, store, verbose } from "./environment.js"
import { described } from "./described.js"
import { jsonOption, withJsonOutput } from "./jsonFlag.js"
import { openBrowser } from "./openBrowser.js"
import { qrCodeText } from "./qrCode.js"
import { whoText } from "./render.js"
import * as Terminal from "./terminal.js"
import { TerminalOutput, withNoColor, withSafeConsole } from "./terminal.js"
import { type LoginRenderer, makeLoginRenderer } from "./waitingScreen.js"

const checkUrl = (name: string, value: string) =>
  Either.match(validateIssuerUrl(value, `--${name}`), {
    onLeft: (why) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(why))),
    onRight: Effect.succeed
  })

/**
 * An optional issuer URL option: https, or http on a loopback host; no credentials, query or fragment. Anything else
 * is a usage error (exit 2) before any request.
 */
export const urlOption = (name: string) =>
  Options.text(name).pipe(
    Options.optional,
    Options.mapEffect((value) =>
      Option.match(value, { onNone: () => Effect.succeedNone, onSome: (url) => Effect.asSome(checkUrl(name, url)) })
    )
  )

const dialect = Options.choice("dialect", ["codex", "rfc8628"]).pipe(
  Options.withDefault("codex" as const),
  Options.withDescription("codex: the ChatGPT sign-in codex uses (default); rfc8628: any OpenID provider")
)
const issuer = urlOption("issuer").pipe(
  Options.withDescription("The issuer (codex default: https://auth.openai.com; required with --dialect rfc8628)")
)
const clientId = Options.text("client-id").pipe(
  Options.optional,
  Options.withDescription("The OAuth client id (codex default: codex's; required with --dialect rfc8628)")
)
const scope = Options.text("scope").pipe(
  Options.withDefault(OidcIssuer.DEFAULT_SCOPE),
  Options.withDescription(`The scope to ask for (rfc8628 only; default "${OidcIssuer.DEFAULT_SCOPE}")`)
)
const withApiKey = Options.boolean("with-api-key").pipe(
  Options.withDescription("Store an API key read from stdin instead of signing in with a device code")
)

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

/** `--qr`, on login and demo. */
export const qr = Options.boolean("qr").pipe(
  Options.withDescription("Also print the sign-in link as a QR code, to scan with a phone (not with --json)")
)

/** `--open`, on login and demo. */
export const openOption = Options.boolean("open").pipe(
  Options.withDescription("Open the sign-in page in the default browser (a failure is only a warning)")
)

/** Device-code login rendered on the terminal, or as NDJSON on stdout with `json`, with the services in context. */
export const deviceLogin = (
  display: DeviceLoginDisplay
): Effect.Effect<
  void,
  LoginError,
  LoginFlow | IssuerResolver | CredentialStore | WorkspacePolicy | DeviceCodeAuth.Setup | TerminalOutput
> =>
  Effect.gen(function* () {
    const { target } = yield* DeviceCodeAuth.Setup
    const scope = yield* Effect.scope
    const screen: LoginRenderer = display.json
      ? yield* withJsonOutput((output) => Effect.succeed(output.jsonLoginRenderer))
      : yield* makeLoginRenderer
    if (display.companion) {
      yield* Effect.forkIn(
        display.companion((line) => screen.print("stderr", `${sanitize(line)}\n`)),
        scope
      )
    }
    const onEvent = (event: LoginEvent) =>
      Effect.zipRight(
        screen.onEvent(event),
        event._tag === "CodeIssued" ? onCodeIssued(event.code, display, screen, scope) : Effect.void
      )
    const result = yield* login({ onEvent }).pipe(
      Effect.ensuring(screen.close),
      Effect.onInterrupt(() =>
        display.json
          ? withJsonOutput(({ CliEvents, printJson }) =>
              printJson(
                CliEvents.ErrorEvent,
                new CliEvents.ErrorEvent({ code: "Cancelled", reason: Option.none(), message: "Login cancelled" })
              )
            )
          : Console.error("\nLogin cancelled")
      )
    )
    if (display.json) {
      return yield* withJsonOutput(({ CliEvents, printJson }) =>
        printJson(
          CliEvents.LoggedInEvent,
          new CliEvents.LoggedInEvent({
            method: target.dialect === "codex" ? "chatgpt" : "oidc",
            email: result.claims.email,
            plan: result.claims.plan,
            accountId: Option.orElse(
              Option.flatMap(result.record.tokens, (tokens) => tokens.accountId),
              () => result.claims.accountId
            ),
            profile: target.profile
          })
        )
      )
    }
    const where = target.profile === DEFAULT_PROFILE ? "" : ` (profile ${target.profile})`
    const to = target.dialect === "codex" ? "" : ` to ${sanitize(target.issuer)}`
    yield* Console.log(`Successfully logged in${to} as ${whoText(result.claims)}${where}`)
  }).pipe(withNoColor(display.noColor), Effect.scoped)

/** After the prompt: the QR code on stdout (never in JSON mode), and the browser opened in the background. */
const onCodeIssued = (
  code: DeviceCode,
  display: DeviceLoginDisplay,
  screen: LoginRenderer,
  scope: Scope.Scope
): Effect.Effect<void> => {
  const url = Option.getOrElse(code.verificationUriComplete, () => code.verificationUri)
  return Effect.zipRight(
    display.qr && !display.json
      ? Effect.flatMap(qrCodeText(url), (qr) => screen.print("stdout", `${qr}\n\n`))
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

/** `login --with-api-key`: the key from stdin, stored in codex's API-key shape, in the store in context. */
export const apiKeyLogin = (
  json: boolean
): Effect.Effect<void, ApiKeyInputError | LoginMethodError | StoreError, CredentialStore | DeviceCodeAuth.Setup> =>
  Effect.gen(function* () {
    if (process.stdin.isTTY) return yield* new ApiKeyInputError({ reason: "Terminal" })
    // codex's progress line, on stderr as codex writes it, before it looks at forced_login_method; --json keeps stderr
    // for errors only
    if (!json) yield* Console.error("Reading API key from stdin...")
    yield* checkLoginMethod((yield* DeviceCodeAuth.Setup).config.forcedLoginMethod, "apikey")
    const key = yield* parseApiKeyInput(yield* readStdin)
    const store = yield* CredentialStore
    yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* loadOrSetAside(store, (_, keptAs) =>
          Option.match(keptAs, {
            onNone: () => Effect.void,
            onSome: (keptAs) => Console.error(`Warning: the unreadable sign-in was moved to ${keptAs}.`)
          })
        )
        const extra = Option.match(previous, { onNone: () => [], onSome: (p) => p.extra })
        yield* store.save(apiKeyAuth(key, extra))
      })
    )
    const { target } = yield* DeviceCodeAuth.Setup
    yield* json
      ? withJsonOutput(({ CliEvents, printJson }) =>
          printJson(
            CliEvents.ApiKeyLoggedInEvent,
            new CliEvents.ApiKeyLoggedInEvent({ method: "apikey", profile: target.profile })
          )
        )
      : Console.log(API_KEY_SAVED)
  })

/** The device login the flags ask for; a flag that is missing or does not fit is a usage error (exit 2). */
const resolveTarget = (flags: {
  readonly dialect: "codex" | "rfc8628"
  readonly issuer: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly scope: string
  readonly profile: Option.Option<string>
}) =>
  Either.match(
    resolveLoginTarget(
      {
        dialect: flags.dialect,
        issuer: Option.getOrUndefined(flags.issuer),
        clientId: Option.getOrUndefined(flags.clientId),
        scope: flags.scope,
        profile: Option.getOrUndefined(flags.profile)
      },
      { codexIssuer: CODEX_DEFAULT_ISSUER, codexClientId: CODEX_CLIENT_ID, scope: OidcIssuer.DEFAULT_SCOPE },
      (name) => ({ issuer: "--issuer URL", clientId: "--client-id ID", profile: "--profile" })[name]
    ),
    {
      onLeft: (detail) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(detail))),
      onRight: Effect.succeed
    }
  )

const json = jsonOption("Print one JSON event a line on stdout (NDJSON) and nothing else there")

/** Flags that contradict each other: a usage error (exit 2) rather than one of them silently ignored. */
export const conflicts = (flags: {
  readonly withApiKey: boolean
  readonly json: boolean
  readonly qr: boolean
  readonly open: boolean
  readonly device: {
    readonly dialect: string
    readonly issuer: Option.Option<string>
    readonly clientId: Option.Option<string>
  }
}): ReadonlyArray<string> => [
  ...(flags.json && flags.qr ? ["--qr draws a code on the terminal and --json prints only JSON: leave out one"] : []),
  ...(flags.withApiKey
    ? (
        [
          ["--qr", flags.qr],
          ["--open", flags.open],
          ["--dialect rfc8628", flags.device.dialect === "rfc8628"],
          ["--issuer", Option.isSome(flags.device.issuer)],
          ["--client-id", Option.isSome(flags.device.clientId)]
        ] as const
      )
        .filter(([, given]) => given)
        .map(([flag]) => `--with-api-key stores an API key and ${flag} is for a device-code sign-in: leave out one`)
    : [])
]

// One option for the flags that are checked against each other, resolved into the login's target.
const flags = Options.all({
  device: Options.all({ dialect, issuer, clientId, scope, profile }),
  withApiKey,
  json,
  qr,
  open: openOption
}).pipe(
  Options.mapEffect(({ device, ...given }) => {
    const [problem] = conflicts({ ...given, device })
    return problem === undefined
      ? Effect.map(resolveTarget(device), (target) => ({ ...given, target }))
      : Effect.fail(ValidationError.invalidValue(HelpDoc.p(problem)))
  })
)

/** `devicecode login`. */
export const loginCommand = Command.make(
  "login",
  { flags, store, noColor: Terminal.noColor, verbose },
  ({ flags, noColor, verbose }) =>
    Effect.gen(function* () {
      if (flags.withApiKey) return yield* apiKeyLogin(flags.json)
      yield* deviceLogin({ json: flags.json, qr: flags.qr, open: flags.open, noColor, verbose })
    }).pipe(withSafeConsole)
)
  .pipe(
    Command.provide((options) =>
      authFor({
        ...options.flags.target,
        ...Option.match(options.store, { onNone: () => ({}), onSome: (store) => ({ store }) }),
        verbose: options.verbose
      })
    )
  )
  .pipe(
    Command.withDescription(
      described(
        "Sign in with a device code (Codex dialect, or --dialect rfc8628 for any OpenID provider), or store an API key with --with-api-key",
        "devicecode login --open --qr"
      )
    )
  )
