import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Scope } from "effect"
import { createServer, type Server } from "node:net"
import * as NodeCallbackServer from "../src/layers/NodeCallbackServer.js"
import { portIsFree } from "./support/ports.js"
import { CallbackAnswer, CallbackServerError, type CallbackServerOptions } from "../src/services/CallbackServer.js"

/** A real request over loopback, not following redirects: its status, Location and body. */
const get = (url: string, init: RequestInit = {}) =>
  Effect.promise(async () => {
    const response = await fetch(url, { redirect: "manual", ...init })
    return { status: response.status, location: response.headers.get("location"), body: await response.text() }
  })

const addressPort = (server: Server): number => {
  const address = server.address()
  return typeof address === "object" && address !== null ? address.port : 0
}

const serve = (options: Partial<CallbackServerOptions> = {}) =>
  NodeCallbackServer.open({ port: 0, callbackPath: "/auth/callback", successPage: "<p>Signed in</p>", ...options })

describe("CallbackServer (real HTTP over loopback)", () => {
  it.scopedLive("queues a callback for the login, which answers it; serves /success; 404 elsewhere; GET only", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const base = `http://127.0.0.1:${server.port}`
      const browser = yield* Effect.fork(get(`${base}/auth/callback?code=c0de&state=st4te&state=second`))
      const callback = yield* server.next
      assert.deepStrictEqual(
        [...callback.params],
        [
          ["code", "c0de"],
          ["state", "st4te"]
        ]
      )
      yield* callback.respond(CallbackAnswer.Redirect({ location: `${base}/success?id=1` }))
      const answered = yield* Fiber.join(browser)
      assert.strictEqual(answered.status, 302)
      assert.strictEqual(answered.location, `${base}/success?id=1`)

      const success = yield* get(`${base}/success?id=1`)
      assert.deepStrictEqual([success.status, success.body], [200, "<p>Signed in</p>"])
      assert.strictEqual((yield* get(`${base}/elsewhere`)).status, 404)
      assert.strictEqual((yield* get(`${base}/auth/callback?code=x`, { method: "POST", body: "x" })).status, 405)
    })
  )

  it.scopedLive("a Page answer is sent with its status and type: a wrong state's 400, then the next callback", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const base = `http://127.0.0.1:${server.port}`
      const forged = yield* Effect.fork(get(`${base}/auth/callback?code=c&state=wrong`))
      yield* (yield* server.next).respond(CallbackAnswer.Page({ status: 400, body: "State mismatch", html: false }))
      assert.deepStrictEqual(Object.values(yield* Fiber.join(forged)), [400, null, "State mismatch"])
      const real = yield* Effect.fork(get(`${base}/auth/callback?code=c&state=right`))
      const callback = yield* server.next
      assert.strictEqual(callback.params.get("state"), "right")
      yield* callback.respond(CallbackAnswer.Page({ status: 200, body: "<p>Denied</p>", html: true }))
      assert.deepStrictEqual(Object.values(yield* Fiber.join(real)), [200, null, "<p>Denied</p>"])
    })
  )

  it.scopedLive("GET /cancel tells the login a newer one asked it to give way", () =>
    Effect.gen(function* () {
      const server = yield* serve()
      const cancelled = yield* Effect.fork(server.cancelled)
      const answer = yield* get(`http://127.0.0.1:${server.port}/cancel`)
      assert.deepStrictEqual([answer.status, answer.body], [200, "Login cancelled"])
      assert.isTrue(Exit.isSuccess(yield* Fiber.await(cancelled)))
    })
  )

  it.scopedLive("a callback the login does not answer in time gets a 503", () =>
    Effect.gen(function* () {
      const server = yield* serve({ answerBound: "200 millis" })
      const answer = yield* get(`http://127.0.0.1:${server.port}/auth/callback?code=c&state=s`)
      assert.strictEqual(answer.status, 503)
    })
  )

  it.live("a close does not wait for a callback the login never answered: its connection is cut", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const server = yield* Scope.extend(serve(), scope)
      const browser = yield* Effect.fork(
        Effect.promise(() =>
          fetch(`http://127.0.0.1:${server.port}/auth/callback?code=c&state=s`).then(
            (response) => response.status,
            () => "cut" as const
          )
        )
      )
      yield* server.next
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      // not the 2 minutes the answer could have been waited for
      assert.isBelow(Date.now() - started, 5_000)
      assert.strictEqual(yield* Fiber.join(browser), "cut")
      assert.isTrue(yield* portIsFree(server.port))
    })
  )

  it.live("closing its scope frees the port at once", () =>
    Effect.gen(function* () {
      const scope = yield* Scope.make()
      const server = yield* Scope.extend(serve(), scope)
      assert.isFalse(yield* portIsFree(server.port))
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(yield* portIsFree(server.port))
    })
  )

  it.live("a port another program holds (no HTTP answer to /cancel) is a CallbackServerError naming it, at once", () =>
    Effect.gen(function* () {
      const other = createServer((socket) => socket.destroy())
      const port = yield* Effect.promise(
        () => new Promise<number>((resolve) => other.listen(0, "127.0.0.1", () => resolve(addressPort(other))))
      )
      const error = yield* Effect.scoped(serve({ port })).pipe(Effect.flip, Effect.timeout("5 seconds"))
      other.close()
      assert.instanceOf(error, CallbackServerError)
      assert.isTrue(error.taken)
      assert.include(error.message, `127.0.0.1:${port}: the port is taken by another program`)
    })
  )

  it.live("a second login on the same port asks the first to /cancel and gets the port once it gave way", () =>
    Effect.gen(function* () {
      const opened = yield* Deferred.make<number>()
      // the first login: it gives way (closes its server) when asked
      const first = yield* Effect.fork(
        Effect.scoped(
          Effect.gen(function* () {
            const server = yield* serve()
            yield* Deferred.succeed(opened, server.port)
            yield* server.cancelled
            return "cancelled" as const
          })
        )
      )
      const port = yield* Deferred.await(opened)
      const second = yield* Effect.scoped(Effect.map(serve({ port }), (server) => server.port)).pipe(
        Effect.timeout("5 seconds")
      )
      assert.strictEqual(second, port)
      assert.strictEqual(yield* Fiber.join(first), "cancelled")
    })
  )
})
