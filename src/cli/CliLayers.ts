import type { AuthSession } from "../services/AuthSession.js"
import type { CallbackServer } from "../services/CallbackServer.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import type { Pkce } from "../services/Pkce.js"
import type { ConfigError } from "../domain/Errors.js"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as Path from "@effect/platform/Path"
import type * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"

/** What a command asks for its sign-in: DeviceCodeAuth's options, and whether to log each HTTP exchange. */
export interface AuthOptions extends DeviceCodeAuth.Options {
  readonly verbose?: boolean
}

/**
 * The live services main.ts (the composition root) picks for the commands, as factories of their parsed options:
 * commands ask for these and never build a store, an issuer or a session themselves. Tests provide their own.
 */
export class CliLayers extends Context.Tag("devicecode/cli/CliLayers")<
  CliLayers,
  {
    /** Everything a command working on one sign-in may use: session, store, the login's issuer, … */
    readonly auth: (options: AuthOptions) => Layer.Layer<DeviceCodeAuth.Services, ConfigError, Platform>
    /** The session, its store and the resolved setup: what hands out access tokens (`token`). */
    readonly session: (
      options: AuthOptions
    ) => Layer.Layer<AuthSession | CredentialStore | DeviceCodeAuth.Setup, ConfigError, Platform>
    /** Only the resolved setup and the store: no network. */
    readonly store: (options: AuthOptions) => Layer.Layer<CredentialStore | DeviceCodeAuth.Setup, ConfigError, Platform>
    /** What a browser login adds: the client's PKCE values and the loopback callback server. */
    readonly browser: Layer.Layer<Pkce | CallbackServer>
  }
>() {}

/** What the command layers are made with: the file system and paths, which every command's services have. */
export type Platform = FileSystem.FileSystem | Path.Path

/** The services of {@link CliLayers.auth} for `options`, for `Command.provide`. */
export const authFor = (
  options: AuthOptions
): Layer.Layer<DeviceCodeAuth.Services, ConfigError, CliLayers | Platform> =>
  Layer.unwrapEffect(Effect.map(CliLayers, (layers) => layers.auth(options)))

/** The services of {@link CliLayers.session} for `options`, for `Command.provide`. */
export const sessionFor = (
  options: AuthOptions
): Layer.Layer<AuthSession | CredentialStore | DeviceCodeAuth.Setup, ConfigError, CliLayers | Platform> =>
  Layer.unwrapEffect(Effect.map(CliLayers, (layers) => layers.session(options)))

/** The services of {@link CliLayers.store} for `options`, for `Command.provide`. */
export const storeFor = (
  options: AuthOptions
): Layer.Layer<CredentialStore | DeviceCodeAuth.Setup, ConfigError, CliLayers | Platform> =>
  Layer.unwrapEffect(Effect.map(CliLayers, (layers) => layers.store(options)))

/** The services of {@link CliLayers.browser}, for `Effect.provide` in a browser login. */
export const browserLayer: Layer.Layer<Pkce | CallbackServer, never, CliLayers> = Layer.unwrapEffect(
  Effect.map(CliLayers, (layers) => layers.browser)
)
