import { Console, DateTime, Duration, Effect, Option } from "effect"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"

/** "15 minutes", "90 seconds": a person's reading of a duration. */
export const humanDuration = (duration: Duration.Duration): string => {
  const seconds = Math.max(0, Math.floor(Duration.toSeconds(duration)))
  if (seconds >= 120) return `${Math.round(seconds / 60)} minutes`
  return seconds === 1 ? "1 second" : `${seconds} seconds`
}

/** The prompt of a device login: where to go, what to type, until when, and the phishing warning. */
export const promptText = (verificationUri: string, userCode: string, validFor: Duration.Duration): string =>
  [
    "",
    "Sign in with your browser:",
    "",
    "  1. Open this page:",
    `     ${verificationUri}`,
    "",
    `  2. Enter this one-time code (valid for ${humanDuration(validFor)}):`,
    `     ${userCode}`,
    "",
    "Device codes are a common phishing target. Never share this code, and continue only if you",
    "started this login yourself.",
    ""
  ].join("\n")

/** Renders login progress: the prompt on stdout, everything else on stderr. */
export const renderLoginEvent = (event: LoginEvent): Effect.Effect<void> =>
  LoginEvent.$match(event, {
    StoreUnreadable: ({ detail }) => Console.error(`Warning: ${detail}. It will be replaced once you sign in.`),
    CodeIssued: ({ code, deadline }) =>
      Effect.flatMap(DateTime.now, (now) =>
        Console.log(
          promptText(
            Option.getOrElse(code.verificationUriComplete, () => code.verificationUri),
            code.userCode,
            Duration.millis(DateTime.distance(now, deadline))
          )
        )
      ),
    Waiting: ({ attempt }) =>
      attempt === 1 ? Console.error("Waiting for the code to be approved… (Ctrl-C to cancel)") : Effect.void,
    SlowedDown: ({ interval }) =>
      Console.error(`The server asked us to slow down; polling every ${Duration.format(interval)}.`),
    Retrying: ({ delay, detail }) => Console.error(`${detail}; retrying in ${Duration.format(delay)}.`),
    Approved: () => Console.error("Approved; fetching tokens…"),
    LoggedIn: () => Effect.void
  })

/** "dev@example.com (plus)", or what is known of it. */
export const whoText = (claims: IdTokenClaims): string => {
  const email = Option.getOrElse(claims.email, () => "an account without an email")
  return Option.match(claims.plan, { onNone: () => email, onSome: (plan) => `${email} (${plan})` })
}
