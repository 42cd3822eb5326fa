import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as CliEvents from "../domain/CliEvents.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { escapeJsonText, sanitize } from "../domain/Sanitize.js"
import { REPLACED_NOT_REVOKED } from "./render.js"
import type { LoginRenderer } from "./waitingScreen.js"

// What --json prints, loaded only by runs that print JSON (jsonFlag.ts's withJsonOutput): the schemas cost start-up.

export { CliEvents }

/**
 * Encodes a value with its schema and prints it as one line on stdout. JSON escapes the C0 controls (ESC included);
 * DEL, C1 and bidi controls, which it leaves raw, are written as `\uXXXX` too: the same JSON, inert on a terminal.
 */
export const printJson = <A, I>(schema: Schema.Schema<A, I>, value: A): Effect.Effect<void> =>
  Schema.encode(schema)(value).pipe(
    Effect.flatMap((encoded) => Console.log(escapeJsonText(JSON.stringify(encoded)))),
    Effect.orDie
  )

/** The error event of any failure: its tag as `code`, its `reason` if it has one, and its message. */
export const errorEvent = (error: { readonly _tag: string; readonly message: string }): CliEvents.ErrorEvent =>
  new CliEvents.ErrorEvent({
    code: error._tag,
    reason: "reason" in error && typeof error.reason === "string" ? Option.some(error.reason) : Option.none(),
    message: error.message
  })

/** Prints the error event of a failure. */
export const printError = (error: { readonly _tag: string; readonly message: string }): Effect.Effect<void> =>
  printJson(CliEvents.ErrorEvent, errorEvent(error))

/** Prints the error event of an unexpected failure (a defect). */
export const printDefect = (cause: Cause.Cause<unknown>): Effect.Effect<void> =>
  printError({ _tag: "UnexpectedError", message: `unexpected failure: ${Cause.pretty(cause)}` })

/**
 * Renders login progress as NDJSON on stdout. `LoggedIn` is left to the caller, which knows the profile and the
 * stored account id; a store that will be replaced is a one-line warning on stderr.
 */
export const renderJsonLoginEvent = (event: LoginEvent): Effect.Effect<void> =>
  LoginEvent.$match(event, {
    StoreUnreadable: ({ detail }) =>
      Console.error(`Warning: ${sanitize(detail)}. It will be replaced once you sign in.`),
    CodeIssued: ({ code, deadline }) =>
      printJson(
        CliEvents.CodeEvent,
        new CliEvents.CodeEvent({
          verificationUri: code.verificationUri,
          verificationUriComplete: code.verificationUriComplete,
          userCode: code.userCode,
          expiresAt: deadline,
          interval: code.interval
        })
      ),
    BrowserSignIn: ({ port, url }) => printJson(CliEvents.BrowserEvent, new CliEvents.BrowserEvent({ url, port })),
    Waiting: ({ attempt, nextPollIn }) =>
      printJson(CliEvents.WaitingEvent, new CliEvents.WaitingEvent({ attempt, nextPollIn })),
    SlowedDown: ({ interval }) => printJson(CliEvents.SlowDownEvent, new CliEvents.SlowDownEvent({ interval })),
    Retrying: ({ delay, detail }) =>
      printJson(CliEvents.RetryingEvent, new CliEvents.RetryingEvent({ message: detail, delay })),
    Approved: () => printJson(CliEvents.ApprovedEvent, new CliEvents.ApprovedEvent()),
    StoreSetAside: ({ keptAs }) => Console.error(`Warning: the unreadable sign-in was moved to ${sanitize(keptAs)}.`),
    ReplacedRevoked: ({ revoked }) => (revoked ? Effect.void : Console.error(REPLACED_NOT_REVOKED)),
    LoggedIn: () => Effect.void
  })

/** The renderer of `login --json`: events as NDJSON on stdout; other text (a warning) sanitised, as it comes. */
export const jsonLoginRenderer: LoginRenderer = {
  onEvent: renderJsonLoginEvent,
  print: (stream, text) => Effect.sync(() => void process[stream].write(sanitize(text, { multiline: true }))),
  close: Effect.void
}
