import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import type * as Scope from "effect/Scope"

/** Answers one request; the server runs it in a fiber of its own. */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => Effect.Effect<void>

/**
 * Listens on 127.0.0.1 (port 0: a free one) and answers with `handle`; gives the port. Closing the scope stops the
 * server at once: it destroys every socket, those a fault left hanging included, rather than wait for them.
 */
export const listenOnLoopback = (port: number, handle: RequestHandler): Effect.Effect<number, never, Scope.Scope> =>
  Effect.gen(function* () {
    const run = yield* FiberSet.makeRuntime<never>()
    const sockets = new Set<Socket>()
    const server = createServer((req, res) => {
      run(handle(req, res))
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    })
    return yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        const onError = (error: Error) => resume(Effect.die(error))
        server.once("error", onError)
        server.listen(port, "127.0.0.1", () => {
          server.off("error", onError)
          const address = server.address()
          resume(
            typeof address === "object" && address !== null
              ? Effect.succeed(address.port)
              : Effect.dieMessage("LocalIssuer: the server has no TCP address")
          )
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
          for (const socket of sockets) socket.destroy()
        })
    )
  })
