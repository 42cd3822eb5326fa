import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import * as Schedule from "effect/Schedule"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { createServer } from "node:http"
import {
  type CallbackAnswer,
  type CallbackRequest,
  CallbackServer,
  CallbackServerError,
  type CallbackServerOptions,
  type OpenCallbackServer
} from "../services/CallbackServer.js"

// a callback is a GET with a query; nothing it needs is large
const MAX_HEADER_BYTES = 16 * 1024
const QUEUED_CALLBACKS = 8

/** How codex waits for a port held by an older login it asked to `/cancel`. */
const TAKEN_PORT_RETRIES = 10
const TAKEN_PORT_RETRY_SPACING = Duration.millis(200)
const CANCEL_REQUEST_BOUND = Duration.millis(500)

const isAddressInUse = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as { readonly code?: unknown }).code === "EADDRINUSE"

/** `GET /cancel` to whatever holds the port on loopback (an older login gives way): whether it answered over HTTP. */
const askToCancel = (port: number): Effect.Effect<boolean> =>
  Effect.tryPromise((signal) => fetch(`http://127.0.0.1:${port}/cancel`, { signal }).then((r) => r.arrayBuffer())).pipe(
    Effect.timeout(CANCEL_REQUEST_BOUND),
    Effect.as(true),
    Effect.orElseSucceed(() => false)
  )

const isLoopbackAddress = (address: string): boolean =>
  address === "::1" || /^(::ffff:)?127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address)

const toResponse = (answer: CallbackAnswer): HttpServerResponse.HttpServerResponse =>
  answer._tag === "Redirect"
    ? HttpServerResponse.redirect(answer.location, { status: 302 })
    : HttpServerResponse.text(answer.body, {
        status: answer.status,
        contentType: `text/${answer.html ? "html" : "plain"}; charset=utf-8`
      })

const page = (status: number, text: string) =>
  HttpServerResponse.text(text, { status, contentType: "text/plain; charset=utf-8" })

/**
 * Serves a browser login's redirect on 127.0.0.1 (RFC 8252 §7.3), through @effect/platform's HTTP server, until the
 * scope closes (an interrupted login frees the port at once). Only GET from a loopback address is answered: the
 * callback path is queued for the login, which answers it (`respond`); `/success` serves `successPage`; `/cancel`
 * ends this login in favour of a newer one; anything else is a 404. Headers are capped at 16 KiB, and a request body
 * is never read.
 */
export const open = (
  options: CallbackServerOptions
): Effect.Effect<OpenCallbackServer, CallbackServerError, Scope.Scope> =>
  Effect.gen(function* () {
    const arrivals = yield* Queue.dropping<CallbackRequest>(QUEUED_CALLBACKS)
    const cancelled = yield* Deferred.make<void>()
    const successServed = yield* Deferred.make<void>()
    const answerBound = Duration.decode(options.answerBound ?? Duration.minutes(2))

    // a server of its own for each try: a failed listen leaves its listeners on the server it was made with
    const listen = Effect.suspend(() => {
      const nodeServer = createServer({ maxHeaderSize: MAX_HEADER_BYTES })
      // every answer closes its connection ("Connection: close"); this listener runs before the server's handler
      nodeServer.on("request", (_request, response) => {
        response.shouldKeepAlive = false
      })
      return NodeHttpServer.make(() => nodeServer, { port: options.port, host: "127.0.0.1" }).pipe(
        Effect.map((server) => ({ server, nodeServer })),
        Effect.mapError(
          (error) =>
            new CallbackServerError({
              port: options.port,
              detail: error.cause instanceof Error ? error.cause.message : String(error.cause),
              taken: isAddressInUse(error.cause)
            })
        )
      )
    })
    const { nodeServer, server } = yield* listen.pipe(
      // codex's way with a taken port: ask the login there to give way, then try again (10 times, 200 ms apart); a
      // holder that does not answer over HTTP is no login, and is reported at once
      Effect.catchIf(
        (error) => error.taken && options.port !== 0,
        (error) =>
          Effect.flatMap(askToCancel(options.port), (answered) =>
            answered
              ? Effect.delay(
                  Effect.retry(listen, {
                    schedule: Schedule.spaced(TAKEN_PORT_RETRY_SPACING),
                    times: TAKEN_PORT_RETRIES - 1,
                    while: (again) => again.taken
                  }),
                  TAKEN_PORT_RETRY_SPACING
                )
              : Effect.fail(error)
          )
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
          const respond = (reply: CallbackAnswer) => Deferred.succeed(answer, toResponse(reply))
          const params = new Map<string, string>()
          for (const [name, value] of url.searchParams) if (!params.has(name)) params.set(name, value)
          const queued = yield* Queue.offer(arrivals, { params, respond })
          if (!queued) return page(503, "Too many requests")
          // the bound answers the deferred rather than interrupting the wait for it: a handler whose wait was
          // interrupted by a timeout sent no response at all (@effect/platform-node 0.108 runs the handler
          // uninterruptibly). Its timer is interruptible, and stopped once the answer is in: left running, it would
          // keep a program's event loop alive for the whole bound.
          const bound = yield* Effect.fork(
            Effect.interruptible(Effect.delay(Deferred.succeed(answer, page(503, "No answer")), answerBound))
          )
          const response = yield* Deferred.await(answer)
          yield* Fiber.interrupt(bound)
          return response
        }
        case "/success":
          yield* Deferred.succeed(successServed, undefined)
          return HttpServerResponse.text(options.successPage, { contentType: "text/html; charset=utf-8" })
        case "/cancel":
          yield* Deferred.succeed(cancelled, undefined)
          return page(200, "Login cancelled")
        default:
          return page(404, "Not Found")
      }
    })

    // As every answer closes its connection, the server's close (which waits for open connections) ends once the last
    // answer is written; one still open half a second after the close began (a callback the login never answered) is
    // cut. Added after the server, this runs before its close.
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        setTimeout(() => nodeServer.closeAllConnections(), 500).unref()
      })
    )
    yield* server.serve(app)
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port
    return {
      port,
      next: Queue.take(arrivals),
      cancelled: Deferred.await(cancelled),
      successServed: Deferred.await(successServed)
    }
  })

/** The live {@link CallbackServer}: {@link open} on Node's HTTP server. */
export const layer: Layer.Layer<CallbackServer> = Layer.succeed(CallbackServer, CallbackServer.of({ open }))
