import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../domain/CodexConstants.js"
import { validateIssuerUrl } from "../domain/IssuerUrl.js"
import { resolveLoginTarget } from "../domain/Profile.js"
import { profile, wholeNumber } from "./environment.js"
import { jsonOption } from "./jsonFlag.js"
import { DEFAULT_OIDC_SCOPE, Dialect } from "../domain/Dialect.js"

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
    Options.withPseudoName("URL"),
    Options.optional,
    Options.mapEffect((value) =>
      Option.match(value, { onNone: () => Effect.succeedNone, onSome: (url) => Effect.asSome(checkUrl(name, url)) })
    )
  )

const dialect = Options.choice("dialect", Dialect.literals).pipe(
  Options.withDefault("codex" as const),
  Options.withDescription("codex: the ChatGPT sign-in codex uses (default); rfc8628: any OpenID provider")
)
const issuer = urlOption("issuer").pipe(
  Options.withDescription("The issuer (codex default: https://auth.openai.com; required with --dialect rfc8628)")
)
const clientId = Options.text("client-id").pipe(
  Options.withPseudoName("ID"),
  Options.optional,
  Options.withDescription("The OAuth client id (codex default: codex's; required with --dialect rfc8628)")
)
const scope = Options.text("scope").pipe(
  Options.withPseudoName("SCOPE"),
  Options.optional,
  Options.withDescription(`The scope to ask for (rfc8628 only; default "${DEFAULT_OIDC_SCOPE}")`)
)
const browser = Options.boolean("browser").pipe(
  Options.withDescription(
    "Sign in through a browser on this machine (authorization code + PKCE, codex's `codex login`) instead of a device code"
  )
)
const port = wholeNumber("port", "PORT", 0, 65_535).pipe(
  Options.optional,
  Options.withDescription(
    "The loopback port of --browser's callback (default: 1455 for codex, as codex; any free port for rfc8628; 0: any)"
  )
)
const withApiKey = Options.boolean("with-api-key").pipe(
  Options.withDescription("Store an API key read from stdin instead of signing in with a device code")
)

/** `--qr`, on login and demo. */
export const qrFlag = (note: string = "") =>
  Options.boolean("qr").pipe(
    Options.withDescription(`Also print the sign-in link as a QR code, to scan with a phone${note}`)
  )

const qr = qrFlag(" (not with --json)")

/** `--open`, on login and demo. */
export const openOption = Options.boolean("open").pipe(
  Options.withDescription("Open the sign-in page in the default browser (a failure is only a warning)")
)

/** The device login the flags ask for; a flag that is missing or does not fit is a usage error (exit 2). */
const resolveTarget = (flags: {
  readonly dialect: Dialect
  readonly issuer: Option.Option<string>
  readonly clientId: Option.Option<string>
  readonly scope: Option.Option<string>
  readonly profile: Option.Option<string>
}) =>
  Either.match(
    resolveLoginTarget(
      {
        dialect: flags.dialect,
        issuer: Option.getOrUndefined(flags.issuer),
        clientId: Option.getOrUndefined(flags.clientId),
        scope: Option.getOrUndefined(flags.scope),
        profile: Option.getOrUndefined(flags.profile)
      },
      { codexIssuer: CODEX_DEFAULT_ISSUER, codexClientId: CODEX_CLIENT_ID, scope: DEFAULT_OIDC_SCOPE },
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
  readonly browser: boolean
  readonly port: Option.Option<number>
  readonly device: {
    readonly dialect: string
    readonly issuer: Option.Option<string>
    readonly clientId: Option.Option<string>
    readonly scope: Option.Option<string>
  }
}): ReadonlyArray<string> => [
  ...(flags.json && flags.qr ? ["--qr draws a code on the terminal and --json prints only JSON: leave out one"] : []),
  // codex asks for its own scopes, whichever way it signs in
  ...(Option.isSome(flags.device.scope) && flags.device.dialect === "codex" && !flags.withApiKey
    ? ["--scope is for --dialect rfc8628: the codex dialect asks for codex's own scopes"]
    : []),
  ...(flags.browser && flags.qr
    ? ["--qr is for a device code (a phone can approve it) and --browser signs in on this machine: leave out one"]
    : []),
  ...(Option.isSome(flags.port) && !flags.browser
    ? [
        "--port is the callback port of --browser, and a device-code sign-in has none: add --browser or leave out --port"
      ]
    : []),
  ...(flags.withApiKey
    ? (
        [
          ["--qr", flags.qr],
          ["--open", flags.open],
          ["--browser", flags.browser],
          ["--dialect rfc8628", flags.device.dialect === "rfc8628"],
          ["--issuer", Option.isSome(flags.device.issuer)],
          ["--client-id", Option.isSome(flags.device.clientId)],
          ["--scope", Option.isSome(flags.device.scope)]
        ] as const
      )
        .filter(([, given]) => given)
        .map((given) =>
          given[0] === "--browser"
            ? "--with-api-key stores an API key and --browser signs in through a browser: leave out one"
            : `--with-api-key stores an API key and ${given[0]} is for a device-code sign-in: leave out one`
        )
    : [])
]

/** The flags of `login` that are checked against each other, resolved into the login's target. */
export const loginFlags = Options.all({
  device: Options.all({ dialect, issuer, clientId, scope, profile }),
  withApiKey,
  json,
  qr,
  open: openOption,
  browser,
  port
}).pipe(
  Options.mapEffect(({ device, ...given }) => {
    const [problem] = conflicts({ ...given, device })
    return problem === undefined
      ? Effect.map(resolveTarget(device), (target) => ({ ...given, target }))
      : Effect.fail(ValidationError.invalidValue(HelpDoc.p(problem)))
  })
)
