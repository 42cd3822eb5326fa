import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { type FileSystem, HttpClient, type Path } from "@effect/platform"
import { Console, Effect, Either, Layer, Option } from "effect"
import type { ConfigError } from "../domain/Errors.js"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"
import { type CodexConfig, loadCodexConfig, resolveCodexHome } from "../layers/Config.js"
import * as FileStore from "../layers/FileStore.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import { CliLayers } from "./CliLayers.js"
import { withHttpLog } from "./httpLog.js"

/** `--verbose`, on every command. */
export const verbose = Options.boolean("verbose").pipe(
  Options.withDescription("Log each HTTP exchange (method, URL, status, time) to stderr; secrets are never logged")
)

/** `--profile NAME`: which stored sign-in a command works on (default: codex's own auth.json). */
export const profile = Options.text("profile").pipe(
  Options.optional,
  Options.mapEffect((name) =>
    Option.match(name, {
      onNone: () => Effect.succeedNone,
      onSome: (value) =>
        Either.match(validateProfileName(value), {
          onLeft: (why) => Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--profile: ${why}`))),
          onRight: (valid) => Effect.succeed(Option.some(valid))
        })
    })
  ),
  Options.withDescription(`The stored sign-in to use (default: "${DEFAULT_PROFILE}", codex's own auth.json)`)
)

/** Where a command finds the stored sign-ins and their configuration. */
export interface CommandEnv {
  readonly codexHome: string
  readonly config: CodexConfig
}

/** Reads CODEX_HOME (or the given directory) and its config.toml. */
export const loadEnvironment = (
  codexHome?: string
): Effect.Effect<CommandEnv, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const home = codexHome ?? (yield* resolveCodexHome)
    const config = yield* loadCodexConfig(home)
    const kind = Option.getOrElse(config.credentialsStore, () => "file")
    if (kind !== "file") {
      yield* Console.error(
        `Warning: cli_auth_credentials_store = "${kind}" in config.toml is not supported yet; devicecode uses the file store (auth.json).`
      )
    }
    return { codexHome: home, config }
  })

/** The store that holds one profile's sign-in. */
export const storeLayer = (
  env: CommandEnv,
  profileName: string = DEFAULT_PROFILE
): Layer.Layer<CredentialStore, never, FileSystem.FileSystem | Path.Path> =>
  FileStore.layer(FileStore.authJsonPath(env.codexHome, profileName))

/** The HttpClient main.ts picked, logging each exchange with `--verbose`. */
export const httpLayer = (logExchanges: boolean): Effect.Effect<Layer.Layer<HttpClient.HttpClient>, never, CliLayers> =>
  Effect.map(CliLayers, ({ httpClient }) =>
    logExchanges
      ? Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, withHttpLog)).pipe(
          Layer.provide(httpClient)
        )
      : httpClient
  )
