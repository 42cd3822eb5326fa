import { Command } from "@effect/cli"
import { VERSION } from "../version.js"
import { demoCommand } from "./demoCommand.js"
import { issuerCommand } from "./issuerCommand.js"
import { loginCommand } from "./loginCommand.js"
import { logoutCommand } from "./logoutCommand.js"
import { statusCommand } from "./statusCommand.js"
import { tokenCommand } from "./tokenCommand.js"

/** The `devicecode` command and its subcommands. */
export const devicecode = Command.make("devicecode").pipe(
  Command.withDescription("Sign in with the OAuth 2.0 device-code grant and keep the tokens codex reads"),
  Command.withSubcommands([loginCommand, statusCommand, tokenCommand, logoutCommand, demoCommand, issuerCommand])
)

/** Parses argv and runs the chosen command. */
export const cli = Command.run(devicecode, { name: "devicecode", version: VERSION })
