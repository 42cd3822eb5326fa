import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as FileSystem from "@effect/platform/FileSystem"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as Path from "@effect/platform/Path"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type { ConfigError } from "../domain/Errors.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import type { LoginFlow } from "../services/LoginFlow.js"
import type { CallbackServer } from "../services/CallbackServer.js"
import * as Pkce from "../services/Pkce.js"
import * as WorkspacePolicy from "../services/WorkspacePolicy.js"
import * as AuthenticatedHttpClient from "./AuthenticatedHttpClient.js"
import * as AuthSession from "./AuthSession.js"
import * as CodexIssuer from "./CodexIssuer.js"
import * as IssuerResolver from "./IssuerResolver.js"
import * as OidcIssuer from "./OidcIssuer.js"
import { fromSetup, layerStore, type Options, type Resolved, type Setup } from "./setup.js"

export { layerStore, type Options, type Resolved, resolve, Setup } from "./setup.js"
export { layerSession } from "./session.js"

/** Everything {@link layer} provides: a session, an authenticated client, the store, and what `login` needs. */
export type Services =
  | AuthSession.AuthSession
  | AuthenticatedHttpClient.AuthenticatedHttpClient
  | CredentialStore
  | LoginFlow
  | IssuerResolver.IssuerResolver
  | WorkspacePolicy.WorkspacePolicy
  | Setup

/** The login's flow and the rules that bind it. */
const loginOf = (
  resolved: Resolved
): Layer.Layer<LoginFlow | WorkspacePolicy.WorkspacePolicy, never, HttpClient.HttpClient> => {
  const { config, target } = resolved
  // forced_chatgpt_workspace_id speaks of ChatGPT sign-ins only
  const policy =
    target.dialect === "codex"
      ? WorkspacePolicy.layerFromConfig(config)
      : WorkspacePolicy.layer(Option.none(), config.forcedLoginMethod)
  const flow =
    target.dialect === "codex"
      ? CodexIssuer.layer({ issuer: target.issuer, clientId: target.clientId })
      : OidcIssuer.layer({ issuer: target.issuer, clientId: target.clientId, scope: target.scope })
  return Layer.merge(Layer.provide(flow, Pkce.layer), policy)
}

/**
 * The one layer an Effect app composes: {@link AuthSession} (fresh access tokens), the
 * {@link AuthenticatedHttpClient.AuthenticatedHttpClient} for API calls, the {@link CredentialStore} of the profile
 * (chosen as the CLI chooses it), and what the programs need (`LoginFlow` for the dialect, `IssuerResolver`,
 * `WorkspacePolicy`) — one store shared by all of them. Needs an HttpClient, a FileSystem and a Path from the platform.
 */
export const layer = (
  options: Options = {}
): Layer.Layer<Services, ConfigError, HttpClient.HttpClient | FileSystem.FileSystem | Path.Path> =>
  AuthenticatedHttpClient.layer.pipe(
    Layer.provideMerge(AuthSession.layer(options.session)),
    Layer.provideMerge(Layer.mergeAll(IssuerResolver.layer, fromSetup(loginOf))),
    Layer.provideMerge(layerStore(options))
  )

/** Node's HttpClient (node:http), loaded on first build so that importing this module stays cheap. */
const nodeHttpClient: Layer.Layer<HttpClient.HttpClient> = Layer.unwrapEffect(
  Effect.promise(() => import("./nodeHttpClient.js")).pipe(Effect.map((http) => http.layer))
)

/** {@link layer} on Node: Node's HttpClient, FileSystem and Path included, so a Node app needs nothing else. */
export const layerNode = (options: Options = {}): Layer.Layer<Services, ConfigError> =>
  layer(options).pipe(Layer.provide(Layer.mergeAll(nodeHttpClient, NodeFileSystem.layer, NodePath.layer)))

/**
 * What `BrowserLogin.browserLogin` needs on Node besides {@link Services}: the client's PKCE values and the loopback
 * callback server (Node's HTTP server through @effect/platform-node, loaded on first build, so importing this module
 * stays cheap).
 */
export const layerBrowserNode: Layer.Layer<Pkce.Pkce | CallbackServer> = Layer.merge(
  Pkce.layer,
  Layer.unwrapEffect(Effect.promise(() => import("./NodeCallbackServer.js")).pipe(Effect.map((server) => server.layer)))
)
