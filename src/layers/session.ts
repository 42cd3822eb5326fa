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
 * IssuerResolver's live resolver, its module (the issuers of both dialects, their HTTP exchanges) loaded and made the
 * first time a sign-in's issuer is asked for: a session whose token is fresh never loads it.
 */
const makeLazyIssuerResolver: Effect.Effect<IssuerResolver["Type"], never, HttpClient.HttpClient> = Effect.gen(
  function* () {
    const context = yield* Effect.context<HttpClient.HttpClient>()
    const live = yield* Effect.cached(
      Effect.promise(() => import("./IssuerResolver.js")).pipe(
        Effect.flatMap((module) => module.make),
        Effect.provide(context)
      )
    )
    return IssuerResolver.of({
      requestHeaders: dialectRequestHeaders,
      forSignIn: (origin) => Effect.flatMap(live, (resolver) => resolver.forSignIn(origin))
    })
  }
)

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
    Effect.gen(function* () {
      const stored = yield* storeContext(options)
      const withResolver = Context.add(stored, IssuerResolver, yield* makeLazyIssuerResolver)
      const session = yield* Effect.provide(AuthSessionLayer.make(options.session), withResolver)
      return Context.add(withResolver, AuthSession, session)
    })
  )
