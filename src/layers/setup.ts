// The setup of a sign-in (CODEX_HOME, config.toml, the store kind, the login target) and its store: what reading or
// removing a sign-in needs, and nothing of the network. DeviceCodeAuth builds its layers on it (and re-exports it);
// `devicecode status` loads only this graph.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER } from "../domain/CodexConstants.js"
import { DEFAULT_OIDC_SCOPE, type Dialect } from "../domain/Dialect.js"
import { ConfigError, type StoreError } from "../domain/Errors.js"
import { validateIssuerUrl } from "../domain/IssuerUrl.js"
import { type LoginTarget, resolveLoginTarget } from "../domain/Profile.js"
import { CredentialStore } from "../services/CredentialStore.js"
import type * as AuthSession from "./AuthSession.js"
import * as AutoStore from "./AutoStore.js"
import {
  canonicalCodexHome,
  type CodexConfig,
  type CredentialsStoreKind,
  defaultCodexConfig,
  loadCodexConfig,
  resolveCodexHome
} from "./Config.js"
import * as FileStore from "./FileStore.js"
import * as Keyring from "./Keyring.js"
import * as KeyringStore from "./KeyringStore.js"
import * as MemoryStore from "./MemoryStore.js"

/** What an app (or the CLI) asks of `DeviceCodeAuth.layer`; every field has codex's default. */
export interface Options {
  /** The CODEX_HOME to use; default: `$CODEX_HOME` (which must exist), else `~/.codex`, as codex resolves it. */
  readonly codexHome?: string
  /** Which stored sign-in: `default` is codex's own auth.json; an RFC 8628 login defaults to the issuer's host. */
  readonly profile?: string
  /** Where sign-ins are kept; default: `cli_auth_credentials_store` in config.toml, else `file`. */
  readonly store?: CredentialsStoreKind
  /** The dialect of a login: `codex` (default) or `rfc8628`. */
  readonly dialect?: Dialect
  /** The issuer of a login; default codex's (`https://auth.openai.com`); required for `rfc8628`. */
  readonly issuer?: string
  /** The client id of a login; default codex's; required for `rfc8628`. */
  readonly clientId?: string
  /** The scope of an RFC 8628 login; default `openid profile email offline_access`. */
  readonly scope?: string
  /** How early the session refreshes (`skew`, `maxAge`), and who hears of an interrupted refresh (`onInterruptedRefresh`). */
  readonly session?: AuthSession.AuthSessionOptions
  /** Told once when the `auto` store gives up on the keyring and uses the file; default: a warning log. */
  readonly onStoreFallback?: (error: StoreError, file: string) => Effect.Effect<void>
  /**
   * Told once when a wait for a lock file of auth.json (codex's `auth.lock`, `auth.json.lock`, devicecode's refresh
   * lock) lasts over 1 s, naming it and its holder; default: the message on stderr.
   */
  readonly onLockWait?: FileStore.FileStoreOptions["onLockWait"]
  /**
   * What a config.toml that cannot be read or parsed does: `fail` (default) with a {@link ConfigError}, or `warn`
   * through {@link Options.onConfigWarning} and go on with codex's defaults — for reading or removing a sign-in whose
   * store is named explicitly, where config.toml has nothing to decide.
   */
  readonly configErrors?: "fail" | "warn"
  /** Told of a config.toml error that `configErrors: "warn"` let through; default: a warning log. */
  readonly onConfigWarning?: (error: ConfigError) => Effect.Effect<void>
}

/** The setup `DeviceCodeAuth.layer` resolved: CODEX_HOME, config.toml, the store kind and the login it would run. */
export interface Resolved {
  readonly codexHome: string
  readonly config: CodexConfig
  readonly store: CredentialsStoreKind
  readonly target: LoginTarget
}

/** The resolved setup, for apps and commands that report where the sign-in lives. */
export class Setup extends Context.Tag("devicecode/DeviceCodeAuth/Setup")<Setup, Resolved>() {}

const optionsError = (detail: string) => new ConfigError({ reason: "Options", path: "DeviceCodeAuth", detail })

/** Resolves CODEX_HOME and config.toml the way codex does, picks the store kind and the login target. */
export const resolve = (
  options: Options = {}
): Effect.Effect<Resolved, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const codexHome =
      options.codexHome === undefined
        ? yield* resolveCodexHome
        : yield* canonicalCodexHome(options.codexHome, "Options")
    const config = yield* loadCodexConfig(codexHome).pipe(
      Effect.catchIf(
        () => options.configErrors === "warn",
        (error) => Effect.as((options.onConfigWarning ?? warnConfig)(error), defaultCodexConfig)
      )
    )
    const issuer = options.issuer === undefined ? undefined : yield* issuerUrl(options.issuer)
    const target = resolveLoginTarget(
      { ...options, issuer },
      { codexIssuer: CODEX_DEFAULT_ISSUER, codexClientId: CODEX_CLIENT_ID, scope: DEFAULT_OIDC_SCOPE },
      (name) => `the ${name} option`
    )
    if (Either.isLeft(target)) return yield* optionsError(target.left)
    const store = options.store ?? Option.getOrElse(config.credentialsStore, () => "file" as const)
    return { codexHome, config, store, target: target.right }
  }).pipe(Effect.withSpan("DeviceCodeAuth.resolve"))

const issuerUrl = (issuer: string): Effect.Effect<string, ConfigError> =>
  Either.match(validateIssuerUrl(issuer, "the issuer"), {
    onLeft: (detail) => Effect.fail(optionsError(detail)),
    onRight: Effect.succeed
  })

const warnConfig = (error: ConfigError) => Effect.logWarning(`${error.message}; using the defaults`)

const warnFallback = (error: StoreError, file: string) => Effect.logWarning(`${error.message}. Using ${file} instead.`)

/** The store of the resolved profile, of the resolved kind. */
const storeOf = (
  resolved: Resolved,
  onFallback: NonNullable<Options["onStoreFallback"]>,
  onLockWait: Options["onLockWait"]
): Effect.Effect<CredentialStore["Type"], never, FileSystem.FileSystem | Path.Path> => {
  const { codexHome, store, target } = resolved
  const authPath = FileStore.authJsonPath(codexHome, target.profile)
  const fileOptions = onLockWait === undefined ? {} : { onLockWait }
  const keyring = { codexHome, profile: target.profile }
  switch (store) {
    case "file":
      return FileStore.make(authPath, fileOptions)
    case "ephemeral":
      return MemoryStore.make()
    case "keyring":
      return Effect.provideServiceEffect(KeyringStore.make(keyring), Keyring.Keyring, Keyring.make)
    case "auto":
      return Effect.provideServiceEffect(
        Effect.gen(function* () {
          const file = yield* FileStore.make(authPath, fileOptions)
          const { entry, store } = yield* KeyringStore.makeParts(keyring)
          return yield* AutoStore.make({
            keyring: store,
            file,
            entry,
            onFallback: (error) => onFallback(error, file.location)
          })
        }),
        Keyring.Keyring,
        Keyring.make
      )
  }
}

/**
 * The resolved setup and its store, made one after the other: what {@link layerStore} provides, and what the layers
 * built on it (DeviceCodeAuth's, the session's) start from. One effect rather than a graph of layers: building each
 * layer of a graph runs more of Effect's code than making the services does (a third of a `status` start).
 */
export const storeContext = (
  options: Options = {}
): Effect.Effect<Context.Context<CredentialStore | Setup>, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.flatMap(resolve(options), (resolved) =>
    Effect.map(storeOf(resolved, options.onStoreFallback ?? warnFallback, options.onLockWait), (store) =>
      Context.make(Setup, resolved).pipe(Context.add(CredentialStore, store))
    )
  )

/** A layer made from the resolved setup. */
export const fromSetup = <A, E, R>(f: (resolved: Resolved) => Layer.Layer<A, E, R>): Layer.Layer<A, E, R | Setup> =>
  Layer.unwrapEffect(Effect.map(Setup, f))

/**
 * Only the resolved setup and the store: for reading or removing a sign-in without the network (a status line).
 * Fails with a typed {@link ConfigError} when CODEX_HOME, config.toml or the options are broken.
 */
export const layerStore = (
  options: Options = {}
): Layer.Layer<CredentialStore | Setup, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Layer.effectContext(storeContext(options))
