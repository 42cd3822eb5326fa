import type { IncomingHttpHeaders } from "node:http"
import type * as Effect from "effect/Effect"
import type { ErrorShape, Params, Reply } from "./http.js"

/** A request as a handler sees it: its path without trailing slashes, its query and its body as parameters. */
export interface IssuerRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  readonly params: Params
  readonly headers: IncomingHttpHeaders
}

/** Answers one request to a route. */
export type Handler = (request: IssuerRequest) => Effect.Effect<Reply>

/** Answers one grant type at the shared token endpoint. */
export type GrantHandler = (params: Params) => Effect.Effect<Reply>

/** One path the issuer serves: a handler per method it accepts, and how its errors look. */
export interface Route {
  readonly path: string
  readonly get?: Handler
  readonly post?: Handler
  /** The shape of its 405; Codex's unless given. */
  readonly notAllowed?: ErrorShape
  /** The shape of its 400 for a body that is neither JSON nor a form; Codex's unless given. */
  readonly badBody?: ErrorShape
  /** false: the body is never read, so it cannot be refused. */
  readonly readsBody?: boolean
  /** Logs the request's `grant_type` (the token endpoint). */
  readonly logsGrantType?: boolean
}

/** What a dialect adds to the issuer: its own routes, and the grants it answers at the shared token endpoint. */
export interface DialectRoutes {
  readonly routes: ReadonlyArray<Route>
  readonly grants: ReadonlyArray<readonly [grantType: string, handler: GrantHandler]>
}

/** The routes by path. */
export type Routes = ReadonlyMap<string, Route>

/** Indexes routes by their path. */
export const routesByPath = (routes: ReadonlyArray<Route>): Routes =>
  new Map(routes.map((route) => [route.path, route]))

/** The route's handler for a method, if it accepts that method. */
export const handlerFor = (route: Route, method: string): Handler | undefined =>
  method === "GET" ? route.get : method === "POST" ? route.post : undefined
