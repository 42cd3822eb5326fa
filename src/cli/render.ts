import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import type { SpentRefreshWatch } from "../layers/AuthSession.js"
import * as Option from "effect/Option"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { sanitize } from "../domain/Sanitize.js"
import { RefreshInterrupted } from "../services/AuthSession.js"

/** "15 minutes", "90 seconds": a person's reading of a duration. */
export const humanDuration = (duration: Duration.Duration): string => {
  const seconds = Math.max(0, Math.floor(Duration.toSeconds(duration)))
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`
  return seconds === 1 ? "1 second" : `${seconds} seconds`
}

/** `url` as an OSC 8 hyperlink: the same visible text, clickable in terminals that support it. */
export const hyperlink = (url: string): string => `\x1b]8;;${url}\x1b\\${url}\x1b]8;;\x1b\\`

/** codex's device prompt colours (0.171): bright blue for the page and the code, grey for the validity and warning. */
export const promptColors = { blue: "\x1b[94m", grey: "\x1b[90m", reset: "\x1b[0m" } as const

/**
 * The prompt of a device login: where to go, what to type, until when, and the phishing warning. With `hyperlink`
 * the page is an OSC 8 link; with `color` it is painted as codex paints its own ({@link promptColors}, each line
 * reset at its end). The visible text is the same. The page and the code are the server's: sanitised.
 */
export const promptText = (
  verificationUri: string,
  userCode: string,
  validFor: Duration.Duration,
  options: { readonly hyperlink?: boolean; readonly color?: boolean } = {}
): string => {
  const page = sanitize(verificationUri)
  const paint = (sgr: string) => (text: string) =>
    options.color === true ? `${sgr}${text}${promptColors.reset}` : text
  const [blue, grey] = [paint(promptColors.blue), paint(promptColors.grey)]
  return [
    "",
    "Sign in with your browser:",
    "",
    "  1. Open this page:",
    `     ${blue(options.hyperlink === true ? hyperlink(page) : page)}`,
    "",
    `  2. Enter this one-time code ${grey(`(valid for ${humanDuration(validFor)})`)}:`,
    `     ${blue(sanitize(userCode))}`,
    "",
    grey("Device codes are a common phishing target. Never share this code, and continue only if you"),
    grey("started this login yourself."),
    ""
  ].join("\n")
}

/** The prompt of a `CodeIssued` event at `now`: the complete verification URI when there is one. */
export const codeIssuedPrompt = (
  event: Extract<LoginEvent, { readonly _tag: "CodeIssued" }>,
  now: DateTime.Utc,
  options: { readonly hyperlink?: boolean; readonly color?: boolean } = {}
): string =>
  promptText(
    Option.getOrElse(event.code.verificationUriComplete, () => event.code.verificationUri),
    event.code.userCode,
    Duration.millis(Math.max(0, DateTime.distance(now, event.deadline))),
    options
  )

/** The warning of a login whose replaced sign-in could not be revoked (docs/cli.md). */
export const REPLACED_NOT_REVOKED =
  "Warning: the sign-in this login replaced could not be revoked at its issuer; its tokens stay valid until they expire."

/**
 * What a browser login prints once its callback server listens: codex's lines (0.169, 0.171), with devicecode's device
 * login as the way on for a remote machine. The URL is printed whole (it is the one to open), sanitised.
 */
export const browserSignInText = (port: number, url: string): string =>
  `Starting local login server on http://localhost:${port}.
If your browser did not open, navigate to this URL to authenticate:

${sanitize(url)}

On a remote or headless machine? Use \`devicecode login\` instead.`

/**
 * The plain stderr line an event prints, without escapes (none for `CodeIssued`, later polls, a revoked replaced sign-in and `LoggedIn`); the
 * details it quotes (a server's error message, a path) are sanitised.
 */
export const eventLine = (event: LoginEvent): Option.Option<string> =>
  LoginEvent.$match(event, {
    StoreUnreadable: ({ detail }) => Option.some(`Warning: ${sanitize(detail)}. It will be replaced once you sign in.`),
    CodeIssued: () => Option.none(),
    BrowserSignIn: ({ port, url }) => Option.some(browserSignInText(port, url)),
    Waiting: ({ attempt }) =>
      attempt === 1 ? Option.some("Waiting for the code to be approved… (Ctrl-C to cancel)") : Option.none(),
    SlowedDown: ({ interval }) =>
      Option.some(`The server asked us to slow down; polling every ${Duration.format(interval)}.`),
    Retrying: ({ delay, detail }) =>
      Option.some(
        `${sanitize(detail)}; retrying in ${Duration.format(Duration.seconds(Math.max(1, Math.round(Duration.toSeconds(delay)))))}.`
      ),
    Approved: () => Option.some("Approved; fetching tokens…"),
    StoreSetAside: ({ keptAs }) => Option.some(`Warning: the unreadable sign-in was moved to ${sanitize(keptAs)}.`),
    ReplacedRevoked: ({ revoked }) => (revoked ? Option.none() : Option.some(REPLACED_NOT_REVOKED)),
    LoggedIn: () => Option.none()
  })

/** "dev@example.com (plus)", or what is known of it; the claims are the server's, sanitised. */
export const whoText = (claims: IdTokenClaims): string => {
  const email = Option.match(claims.email, { onNone: () => "an account without an email", onSome: sanitize })
  return Option.match(claims.plan, { onNone: () => email, onSome: (plan) => `${email} (${sanitize(plan)})` })
}

/**
 * What stderr says when Ctrl-C (or SIGTERM, SIGHUP) came while a refresh request was out: that its answer is waited
 * for and saved, and how that ended. The error's message names the files: sanitised.
 */
export const refreshInterruptedText: (event: RefreshInterrupted) => string = RefreshInterrupted.$match({
  Waiting: ({ bound }) =>
    `Interrupted during a token refresh: waiting up to ${humanDuration(bound)} for its answer, to save the new ` +
    "sign-in (interrupt again to stop at once).",
  Saved: () => "The refreshed sign-in is saved.",
  NotSaved: ({ error }) => sanitize(`Error: ${error.message}`),
  Failed: ({ error }) => sanitize(`Error: the refresh failed, so there was nothing to save: ${error.message}`),
  NoAnswer: () =>
    'No answer to the refresh in time; nothing was saved. If the next command says the refresh token was already used, run "devicecode login".'
})

/** The line said at once when a session starts watching the store after the issuer found the refresh token spent. */
export const spentRefreshWatchText = ({ bound, error }: SpentRefreshWatch): string =>
  error._tag === "RefreshError" && error.reason === "Reused"
    ? `The refresh token was already used; waiting up to ${humanDuration(bound)} for the program that used it to save its new sign-in…`
    : `The issuer refused the refresh token (another program may have used it); waiting up to ${humanDuration(bound)} for a new sign-in to be saved…`
