import { assert, describe, it } from "@effect/vitest"
import { Chunk, Deferred, Effect, Fiber, Layer, Option, TestClock } from "effect"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { LoginEvent } from "../src/domain/LoginEvent.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as NodeCallbackServer from "../src/layers/NodeCallbackServer.js"
import { browserLogin } from "../src/services/browserLogin.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { Pkce } from "../src/services/Pkce.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import * as ScriptedIssuer from "../src/testing/ScriptedIssuer.js"
import * as TestPkce from "../src/testing/TestPkce.js"

/** A real request over loopback as a browser sends it, not following redirects. */
const visit = (url: string) =>
  Effect.promise(async () => {
    const response = await fetch(url, { redirect: "manual" })
    return { status: response.status, location: response.headers.get("location"), body: await response.text() }
  })

/**
 * A browser login against a scripted issuer and an in-memory store, on a callback server of any free port: the
 * login's fiber, the URL it told, and what to inspect.
 */
const start = Effect.gen(function* () {
  const pkce = yield* TestPkce.make
  const scripted = yield* ScriptedIssuer.make({ issuer: "https://issuer.test", pkce: pkce.service })
  const store = yield* MemoryStore.make()
  const told = yield* Deferred.make<{ readonly url: string; readonly port: number }>()
  const layer = Layer.mergeAll(
    scripted.layer,
    Layer.succeed(CredentialStore, store),
    Layer.succeed(Pkce, pkce.service),
    NodeCallbackServer.layer,
    WorkspacePolicy.layer(Option.none(), Option.none())
  )
  const fiber = yield* browserLogin({
    port: 0,
    onEvent: (event) =>
      LoginEvent.$is("BrowserSignIn")(event)
        ? Deferred.succeed(told, { url: event.url, port: event.port })
        : Effect.void
  }).pipe(Effect.provide(layer), Effect.fork)
  const { port, url } = yield* Deferred.await(told)
  const state = new URL(url).searchParams.get("state")!
  return { fiber, port, url, state, store, scripted }
})

describe("browserLogin (a scripted issuer, the real callback server over loopback)", () => {
  it.live("a callback with the right state is exchanged, saved, and sent to /success", () =>
    Effect.gen(function* () {
      const { fiber, port, state, store, url } = yield* start
      const authorize = new URL(url)
      assert.strictEqual(authorize.searchParams.get("redirect_uri"), `http://127.0.0.1:${port}/auth/callback`)
      assert.strictEqual(authorize.searchParams.get("code_challenge_method"), "S256")
      const back = yield* visit(`http://127.0.0.1:${port}/auth/callback?code=the-code&state=${state}`)
      assert.deepStrictEqual([back.status, back.location], [302, `http://127.0.0.1:${port}/success`])
      // as a browser follows the redirect: the login keeps its server open for that page
      assert.strictEqual((yield* visit(back.location!)).status, 200)
      const result = yield* Fiber.join(fiber)
      assert.isTrue(Option.isSome(yield* store.load))
      assert.strictEqual(result.location, store.location)
    })
  )

  it.live("a callback with another state is refused 400 and never exchanged; the real one still works", () =>
    Effect.gen(function* () {
      const { fiber, port, scripted, state, store } = yield* start
      const forged = yield* visit(`http://127.0.0.1:${port}/auth/callback?code=forged&state=not-${state}`)
      assert.deepStrictEqual([forged.status, forged.body], [400, "State mismatch"])
      assert.isTrue(Option.isNone(yield* store.load))
      assert.strictEqual((yield* scripted.calls).exchange ?? 0, 0, "nothing exchanged")
      const back = yield* visit(`http://127.0.0.1:${port}/auth/callback?code=the-code&state=${state}`)
      yield* visit(back.location!)
      yield* Fiber.join(fiber)
      assert.isTrue(Option.isSome(yield* store.load))
    })
  )

  it.live("the provider's error ends the login Denied with its description, sanitised; nothing saved", () =>
    Effect.gen(function* () {
      const { fiber, port, state, store } = yield* start
      const denied = yield* visit(
        `http://127.0.0.1:${port}/auth/callback?state=${state}&error=access_denied&error_description=${encodeURIComponent("No \u001b[31mway")}`
      )
      assert.strictEqual(denied.status, 200)
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.instanceOf(error, DeviceAuthError)
      assert.strictEqual((error as DeviceAuthError).reason, "Denied")
      assert.notInclude(error.message, "\u001b")
      assert.include(error.message, "No")
      assert.isTrue(Option.isNone(yield* store.load))
    })
  )

  it.live("codex's missing_codex_entitlement is told in codex's words, on the page and in the error", () =>
    Effect.gen(function* () {
      const { fiber, port, state } = yield* start
      const denied = yield* visit(
        `http://127.0.0.1:${port}/auth/callback?state=${state}&error=access_denied&error_description=missing_codex_entitlement`
      )
      assert.include(denied.body, "You do not have access to Codex")
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.strictEqual((error as DeviceAuthError).reason, "Denied")
      assert.include(error.message, "Codex is not enabled for your workspace.")
    })
  )

  it.effect("with no callback the login ends TimedOut after codex's 10 minutes (TestClock), and frees the port", () =>
    Effect.gen(function* () {
      const { fiber, port } = yield* start
      // the login's timeout is set once it told the URL: wait for that sleep before moving the clock
      while (Chunk.isEmpty(yield* TestClock.sleeps())) yield* Effect.yieldNow()
      yield* TestClock.adjust("599 seconds")
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)), "still waiting at 9:59")
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(fiber).pipe(Effect.flip)
      assert.strictEqual((error as DeviceAuthError).reason, "TimedOut")
      assert.strictEqual(
        error.message,
        "timed out after 10m waiting for the browser to come back; run login --browser again"
      )
      const refused = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/success`).then(
          () => false,
          () => true
        )
      )
      assert.isTrue(refused, "nothing listens on the port any more")
    })
  )

  it.live("interrupting the login frees the port", () =>
    Effect.gen(function* () {
      const { fiber, port } = yield* start
      yield* Fiber.interrupt(fiber)
      const refused = yield* Effect.promise(() =>
        fetch(`http://127.0.0.1:${port}/success`).then(
          () => false,
          () => true
        )
      )
      assert.isTrue(refused, "nothing listens on the port any more")
    })
  )
})
