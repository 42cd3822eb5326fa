import { HelpDoc, Options, ValidationError } from "@effect/cli"
import { type FileSystem, HttpClient, type Path } from "@effect/platform"
import { Console, Effect, Either, Layer, Option } from "effect"
import type { ConfigError } from "../domain/Errors.js"
import { DEFAULT_PROFILE, validateProfileName } from "../domain/Profile.js"
import * as AutoStore from "../layers/AutoStore.js"
import {
  type CodexConfig,
  credentialsStoreKinds,
  type CredentialsStoreKind,
  loadCodexConfig,
  resolveCodexHome
} from "../layers/Config.js"
import * as FileStore from "../layers/FileStore.js"
import * as KeyringLive from "../layers/KeyringLive.js"
import * as KeyringStore from "../layers/KeyringStore.js"
import * as MemoryStore from "../layers/MemoryStore.js"
import { CredentialStore } from "../services/CredentialStore.js"
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

/** `--store KIND`: where sign-ins are kept; wins over `cli_auth_credentials_store` in config.toml. */
export const store = Options.choice("store", credentialsStoreKinds).pipe(
  Options.optional,
  Options.withDescription(
    "Where the sign-in is kept: file (auth.json), keyring (the OS keyring, as codex), auto (keyring, else file), ephemeral (memory only); default: cli_auth_credentials_store in config.toml, else file"
  )
)

/** Where a command finds the stored sign-ins and their configuration. */
export interface CommandEnv {
  readonly codexHome: string
  readonly config: CodexConfig
  readonly store: CredentialsStoreKind
}

/** Reads CODEX_HOME (or the given directory) and its config.toml; `--store` wins over the config's store. */
export const loadEnvironment = (
  options: { readonly codexHome?: string; readonly store?: Option.Option<CredentialsStoreKind> } = {}
): Effect.Effect<CommandEnv, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const home = options.codexHome ?? (yield* resolveCodexHome)
    const config = yield* loadCodexConfig(home)
    const kind = Option.getOrElse(
      Option.orElse(options.store ?? Option.none(), () => config.credentialsStore),
      () => "file" as const
    )
    return { codexHome: home, config, store: kind }
  })

/** The store that holds one profile's sign-in, of the kind the environment names. */
export const storeLayer = (
  env: CommandEnv,
  profileName: string = DEFAULT_PROFILE
): Layer.Layer<CredentialStore, never, FileSystem.FileSystem | Path.Path> => {
  const authPath = FileStore.authJsonPath(env.codexHome, profileName)
  const keyringOptions = { codexHome: env.codexHome, profile: profileName }
  switch (env.store) {
    case "file":
      return FileStore.layer(authPath)
    case "ephemeral":
      return MemoryStore.layer()
    case "keyring":
      return KeyringStore.layer(keyringOptions).pipe(Layer.provide(KeyringLive.layer))
    case "auto":
      return Layer.effect(
        CredentialStore,
        Effect.gen(function* () {
          const keyring = yield* KeyringStore.make(keyringOptions)
          const file = yield* FileStore.make(authPath)
          return yield* AutoStore.make({
            keyring,
            file,
            onFallback: (error) => Console.error(`Warning: ${error.message}. Using ${file.location} instead.`)
          })
        })
      ).pipe(Layer.provide(KeyringLive.layer))
  }
}

/** The HttpClient main.ts picked, logging each exchange with `--verbose`. */
export const httpLayer = (logExchanges: boolean): Effect.Effect<Layer.Layer<HttpClient.HttpClient>, never, CliLayers> =>
  Effect.map(CliLayers, ({ httpClient }) =>
    logExchanges
      ? Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, withHttpLog)).pipe(
          Layer.provide(httpClient)
        )
      : httpClient
  )
