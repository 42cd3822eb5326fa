import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import { statSync } from "node:fs"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { credentialsStoreKinds } from "../domain/CodexConfig.js"

/** `--verbose` with what it logs on this command. */
export const verboseFor = (what: string) => Options.boolean("verbose").pipe(Options.withDescription(what))

/** What `--verbose` logs on the commands that talk to an issuer. */
export const VERBOSE_HTTP =
  "Log each HTTP exchange (method, URL, status, time) to stderr, and why the OS keyring cannot be used when the store falls back to the file; secrets are never logged"

/** `--verbose`, on the commands that talk to an issuer. */
export const verbose = verboseFor(VERBOSE_HTTP)

/** What `--verbose` logs on a command that makes no HTTP request (`status`). */
export const VERBOSE_WITHOUT_HTTP =
  "Say on stderr why the OS keyring cannot be used when the store falls back to the file (this command makes no HTTP request)"

/** What `--no-color` does. */
export const NO_COLOR = "Print plain lines without colour, links or a live status line (as NO_COLOR=1 does)"

/** `--no-color`: plain output (as `NO_COLOR=1`). */
export const noColor = Options.boolean("no-color").pipe(Options.withDescription(NO_COLOR))

/** `--profile NAME`: which stored sign-in a command works on (default: codex's own auth.json). */
export const profile = Options.text("profile").pipe(
  Options.withPseudoName("NAME"),
  Options.optional,
  Options.mapEffect((name) =>
    Option.match(name, {
      onNone: () => Effect.succeedNone,
      onSome: (value) =>
        Either.match(validateProfileName(value), {
          onLeft: (why) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--profile: ${sanitize(why)}`))),
          onRight: (valid) => Effect.succeed(Option.some(valid))
        })
    })
  ),
  Options.withDescription(`The stored sign-in to use (default: "${DEFAULT_PROFILE}", codex's own auth.json)`)
)

/** `--store KIND`: where sign-ins are kept; wins over `cli_auth_credentials_store` in config.toml. */
export const store = Options.choice("store", credentialsStoreKinds).pipe(
  Options.optional,
  Options.withDescription(
    "Where the sign-in is kept: file (auth.json), keyring (the OS keyring, as codex), auto (keyring, else file), ephemeral (memory only); default: cli_auth_credentials_store in config.toml, else file"
  )
)

/**
 * A whole-number option from `min` to `max`, shown as `placeholder`: anything else is a usage error naming the flag
 * and what it accepts (exit 2), not @effect/cli's "'abc' is not a integer".
 */
export const wholeNumber = (name: string, placeholder: string, min: number, max: number) =>
  Options.text(name).pipe(
    Options.withPseudoName(placeholder),
    Options.mapEffect((text) => {
      const value = /^\d+$/.test(text.trim()) ? Number(text.trim()) : Number.NaN
      return Number.isSafeInteger(value) && value >= min && value <= max
        ? Effect.succeed(value)
        : Effect.fail(
            ValidationError.invalidValue(
              HelpDoc.p(`--${name} must be a whole number from ${min} to ${max}, not '${sanitize(text)}'`)
            )
          )
    })
  )

/** `--codex-home DIR`: a directory that exists, else a usage error naming the flag. */
export const existingDirectory = (name: string) =>
  Options.text(name).pipe(
    Options.withPseudoName("DIR"),
    Options.mapEffect((path) =>
      Effect.sync(() => {
        try {
          return statSync(path).isDirectory()
        } catch {
          return false
        }
      }).pipe(
        Effect.flatMap((isDirectory) =>
          isDirectory
            ? Effect.succeed(path)
            : Effect.fail(
                ValidationError.invalidValue(
                  HelpDoc.p(`--${name} must be an existing directory, not '${sanitize(path)}'`)
                )
              )
        )
      )
    )
  )
