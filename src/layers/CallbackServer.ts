import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Scope from "effect/Scope"
import { createServer } from "node:http"

/** The callback server could not listen on its port (taken, or not allowed). */
export class CallbackServerError extends Data.TaggedError("CallbackServerError")<{
  readonly port: number
  readonly detail: string
}> {
  override get message(): string {
    return `could not serve the login callback on 127.0.0.1:${this.port}: ${this.detail}`
  }
}

/** A request that reached the callback path, waiting for the login to answer it. */
export interface CallbackRequest {
  /** Its query parameters, the first value of each. */
  readonly params: ReadonlyMap<string, string>
  /** Answers the browser; a request not answered within `answerBound` gets a 503. */
  readonly respond: (response: HttpServerResponse.HttpServerResponse) => Effect.Effect<void>
}

/** A loopback HTTP server for one browser login's redirect, open for the scope it was made in. */
export interface CallbackServer {
  /** The port it listens on (the one asked for, or the free one it was given for 0). */
  readonly port: number
  /** The next request to the callback path, in the order they came. */
  readonly next: Effect.Effect<CallbackRequest>
  /** Succeeds once another login asked this one to give way (`GET /cancel`, as codex's logins do). */
  readonly cancelled: Effect.Effect<void>
}

/** Options of {@link make}. */
export interface CallbackServerOptions {
  /** 0: any free port. */
  readonly port: number
  /** The redirect URI's path: codex's `/auth/callback`, RFC 8252's `/callback`. */
  readonly callbackPath: string
  /** The page `GET /success` serves (where a login sends the browser once it is done). */
  readonly successPage: string
  /** How long a callback request waits for the login's answer (default 2 minutes: an exchange, a save). */
  readonly answerBound?: Duration.DurationInput
}

// a callback is a GET with a query; nothing it needs is large
const MAX_HEADER_BYTES = 16 * 1024
const QUEUED_CALLBACKS = 8

const isLoopbackAddress = (address: string): boolean =>
  address === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)

const page = (status: number, text: string) =>
  HttpServerResponse.text(text, { status, contentType: "text/plain; charset=utf-8" })

/**
 * Serves a browser login's redirect on 127.0.0.1 (RFC 8252 §7.3), through @effect/platform's HTTP server, until the
 * scope closes (an interrupted login frees the port at once). Only GET from a loopback address is answered: the
 * callback path is queued for the login, which answers it (`respond`); `/success` serves `successPage`; `/cancel`
 * ends this login in favour of a newer one; anything else is a 404. Headers are capped at 16 KiB, and a request body
 * is never read.
 */
export const make = (options: CallbackServerOptions): Effect.Effect<CallbackServer, CallbackServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const arrivals = yield* Queue.dropping<CallbackRequest>(QUEUED_CALLBACKS)
    const cancelled = yield* Deferred.make<void>()
    const answerBound = Duration.decode(options.answerBound ?? Duration.minutes(2))

    const server = yield* NodeHttpServer.make(() => createServer({ maxHeaderSize: MAX_HEADER_BYTES }), {
      port: options.port,
      host: "127.0.0.1"
    }).pipe(
      Effect.mapError(
        (error) =>
          new CallbackServerError({
            port: options.port,
            detail: error.cause instanceof Error ? error.cause.message : String(error.cause)
          })
      )
    )

    const app = Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      if (!Option.exists(request.remoteAddress, isLoopbackAddress)) return page(403, "Forbidden")
      if (request.method !== "GET") return page(405, "Method Not Allowed")
      const url = new URL(request.url, "http://127.0.0.1")
      switch (url.pathname) {
        case options.callbackPath: {
          const answer = yield* Deferred.make<HttpServerResponse.HttpServerResponse>()
          const params = new Map<string, string>()
          for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value)
          const queued = yield* Queue.offer(arrivals, {
            params,
            respond: (response) => Deferred.succeed(answer, response)
          })
          if (!queued) return page(503, "Too many requests")
          // the bound answers the deferred rather than interrupting the wait for it: a handler whose wait was
          // interrupted by a timeout sent no response at all (@effect/platform-node 0.108)
          yield* Effect.fork(Effect.delay(Deferred.succeed(answer, page(503, "No answer")), answerBound))
          return yield* Deferred.await(answer)
        }
        case "/success":
          return HttpServerResponse.html(options.successPage)
        case "/cancel":
          yield* Deferred.succeed(cancelled, undefined)
          return page(200, "Login cancelled")
        default:
          return page(404, "Not Found")
      }
    })

    yield* server.serve(app)
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port
    return { port, next: Queue.take(arrivals), cancelled: Deferred.await(cancelled) }
  })
