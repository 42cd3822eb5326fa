// A session over the setup's store, for what only hands out access tokens (`devicecode token`): no login flow, no
// workspace rules, no authenticated client, and the issuer modules loaded on the first refresh only.
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import type { ConfigError } from "../domain/Errors.js"
import { AuthSession } from "../services/AuthSession.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import { dialectRequestHeaders, IssuerResolver } from "../services/IssuerResolver.js"
import * as AuthSessionLayer from "./AuthSession.js"
import { type Options, type Setup, storeContext } from "./setup.js"

/**
 * IssuerResolver's live resolver, its module (the issuers of both dialects, their HTTP exchanges) loaded and made,
 * with the HTTP client `http` gives, the first time a sign-in's issuer is asked for: a session whose token is fresh
 * never loads it.
 */
const makeLazyIssuerResolver = (
  http: Effect.Effect<Context.Context<HttpClient.HttpClient>>
): Effect.Effect<IssuerResolver["Type"]> =>
  Effect.map(
    Effect.cached(
      Effect.promise(() => import("./IssuerResolver.js")).pipe(
        Effect.flatMap((module) => Effect.flatMap(http, (client) => Effect.provide(module.make, client)))
      )
    ),
    (live) =>
      IssuerResolver.of({
        requestHeaders: dialectRequestHeaders,
        forSignIn: (origin) => Effect.flatMap(live, (resolver) => resolver.forSignIn(origin))
      })
  )

/** The session's services, made one after the other (see {@link storeContext}). */
const sessionContext = (options: Options, http: Effect.Effect<Context.Context<HttpClient.HttpClient>>) =>
  Effect.gen(function* () {
    const stored = yield* storeContext(options)
    const withResolver = Context.add(stored, IssuerResolver, yield* makeLazyIssuerResolver(http))
    const session = yield* Effect.provide(AuthSessionLayer.make(options.session), withResolver)
    return Context.add(withResolver, AuthSession, session)
  })

/**
 * The {@link AuthSession} of the setup's profile, its store and the setup, as `DeviceCodeAuth.layer` makes them, and
 * nothing else: for a program that only needs fresh access tokens. Made in one effect, not a graph of layers (see
 * {@link storeContext}).
 */
export const layerSession = (
  options: Options = {}
): Layer.Layer<
  AuthSession | CredentialStore | Setup,
  ConfigError,
  HttpClient.HttpClient | FileSystem.FileSystem | Path.Path
> =>
  Layer.effectContext(
    Effect.flatMap(Effect.context<HttpClient.HttpClient>(), (client) => sessionContext(options, Effect.succeed(client)))
  )

/**
 * {@link layerSession} with its HTTP client from `http`, built (in the session's scope) only when a refresh first needs
 * an issuer: `devicecode token` with a fresh token never loads an HTTP client's modules.
 */
export const layerSessionWith = (
  options: Options,
  http: Layer.Layer<HttpClient.HttpClient>
): Layer.Layer<AuthSession | CredentialStore | Setup, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Layer.scopedContext(
    Effect.flatMap(Effect.scope, (scope) => sessionContext(options, Layer.buildWithScope(http, scope)))
  )
