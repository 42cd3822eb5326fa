import type { IncomingMessage, ServerResponse } from "node:http"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { faultReply, isStreamed, streamFault } from "./faults.js"
import { codexError, errorReply, parseParams, type Params, readBody, type Reply, write } from "./http.js"
import { handlerFor, type IssuerRequest, type Route, type Routes } from "./route.js"
import type { RequestHandler } from "./server.js"
import type { IssuerState } from "./state.js"
import type { LocalIssuerRequest } from "./types.js"

/** The body as text and as parameters; the parameters none when it is unreadable, too large, or neither JSON nor a form. */
const readParams = (
  req: IncomingMessage
): Effect.Effect<{ readonly text: string | undefined; readonly params: Option.Option<Params> }> =>
  readBody(req).pipe(
    Effect.option,
    Effect.map((text) => ({
      text: Option.getOrUndefined(text),
      params: Option.flatMap(text, (text) => Option.fromNullable(parseParams(text, req.headers["content-type"] ?? "")))
    }))
  )

/** Node's `rawHeaders` as ordered pairs, names lower-cased. */
const headerPairs = (raw: ReadonlyArray<string>): ReadonlyArray<readonly [string, string]> => {
  const pairs: Array<readonly [string, string]> = []
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i]!.toLowerCase(), raw[i + 1]!])
  return pairs
}

/**
 * Answers each request in turn: a fault queued for its path first; else its body is read (400 if unreadable, whatever
 * the path) and its route answers, 404 for an unknown path and 405 for a method the route does not take. Every answer,
 * and every request a fault drops, is logged and handed to `onRequest` before it is written; a defect answers 500.
 */
export const makeRequestHandler = (options: {
  /** `http://127.0.0.1:PORT`, the base request targets are resolved against. */
  readonly url: string
  readonly routes: Routes
  readonly state: IssuerState
  readonly onRequest: ((request: LocalIssuerRequest) => Effect.Effect<void>) | undefined
}): RequestHandler => {
  const { routes, state } = options

  const record = (entry: LocalIssuerRequest): Effect.Effect<void> =>
    Effect.suspend(() => {
      state.log(entry)
      return options.onRequest?.(entry) ?? Effect.void
    })

  const dispatch = (route: Route | undefined, request: IssuerRequest): Effect.Effect<Reply> => {
    const { method, path } = request
    if (route === undefined) {
      state.count("notFound")
      return Effect.succeed(codexError(404, "not_found", `No route for ${method} ${path}.`))
    }
    const handler = handlerFor(route, method)
    if (handler === undefined) {
      const shape = route.notAllowed ?? "codex"
      const code = shape === "oauth" ? "invalid_request" : "method_not_allowed"
      return Effect.succeed(errorReply(shape, 405, code, `${method} is not allowed.`))
    }
    return handler(request)
  }

  return (req: IncomingMessage, res: ServerResponse): Effect.Effect<void> =>
    Effect.gen(function* () {
      const method = req.method ?? "GET"
      const target = new URL(req.url ?? "/", options.url)
      const path = target.pathname.length > 1 ? target.pathname.replace(/\/+$/, "") : target.pathname
      const seen = { method, path, headers: headerPairs(req.rawHeaders), search: target.search }
      const fault = state.takeFault(path)
      if (fault !== undefined) {
        if (fault.reset === true) {
          yield* record({ ...seen, status: "reset" })
          req.socket.destroy()
          return
        }
        if (fault.hang === true) {
          // The response is never written: the socket stays open until the client gives up or the issuer closes.
          yield* record({ ...seen, status: "hang" })
          return
        }
        const reply = faultReply(fault)
        yield* record({ ...seen, status: reply.status })
        return yield* isStreamed(fault) ? streamFault(res, fault) : write(res, reply)
      }
      const route = routes.get(path)
      const body =
        route?.readsBody === false ? { text: undefined, params: Option.some<Params>({}) } : yield* readParams(req)
      const params = body.params
      const reply = Option.isSome(params)
        ? yield* dispatch(route, {
            method,
            path,
            query: target.searchParams,
            params: params.value,
            headers: req.headers
          })
        : errorReply(
            route?.badBody ?? "codex",
            400,
            "invalid_request",
            "The request body is not valid JSON or form data."
          )
      const grantType = route?.logsGrantType === true ? Option.getOrUndefined(params)?.grant_type : undefined
      yield* record({
        ...seen,
        status: reply.status,
        ...(grantType === undefined ? {} : { grantType }),
        ...(body.text === undefined ? {} : { body: body.text })
      })
      yield* write(res, reply)
    }).pipe(
      Effect.catchAllDefect((defect) =>
        write(res, codexError(500, "server_error", defect instanceof Error ? defect.message : String(defect)))
      )
    )
}
