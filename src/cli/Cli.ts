import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Arr from "effect/Array"
import { VERSION } from "../version.js"
import { completionCommand } from "./completionCommand.js"
import { demoCommand } from "./demoCommand.js"
import { issuerCommand } from "./issuerCommand.js"
import { loginCommand } from "./loginCommand.js"
import { logoutCommand } from "./logoutCommand.js"
import { statusCommand } from "./statusCommand.js"
import { tokenCommand } from "./tokenCommand.js"

// @effect/cli lists a subcommand's description only when it is one paragraph; ours have an example paragraph too, so
// the overview names each command here.
const overview = HelpDoc.blocks([
  HelpDoc.p("Sign in with the OAuth 2.0 device-code grant and keep the tokens codex reads."),
  HelpDoc.enumeration(
    Arr.map(
      [
        ["login", "Sign in with a device code, or store an API key (--with-api-key)"],
        ["status", "Show who is signed in, and where (--all: every profile)"],
        ["token", "Print a fresh access token"],
        ["logout", "Revoke the refresh token and delete the sign-in"],
        ["demo", "Run a whole login against an embedded local issuer"],
        ["issuer", "Run the embedded local issuer until stopped"],
        ["completion", "Print a completion script for bash, zsh or fish"]
      ] as const,
      ([name, summary]) => HelpDoc.p(Span.spans([Span.code(name.padEnd(12)), Span.text(summary)]))
    )
  ),
  HelpDoc.p("Run devicecode COMMAND --help for a command's options. Example: devicecode login --open --qr")
])

/** The `devicecode` command and its subcommands. */
export const devicecode = Command.make("devicecode").pipe(
  Command.withDescription(overview),
  Command.withSubcommands([
    loginCommand,
    statusCommand,
    tokenCommand,
    logoutCommand,
    demoCommand,
    issuerCommand,
    // Annotated: the completion script is made from the command that lists it, which TS cannot infer in a cycle.
    completionCommand((): Command.Command<"devicecode", unknown, unknown, any> => devicecode)
  ])
)

/** Parses argv and runs the chosen command. */
export const cli = Command.run(devicecode, { name: "devicecode", version: VERSION })
