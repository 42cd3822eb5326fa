import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Option } from "effect"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { LoginEvent } from "../src/domain/LoginEvent.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as NodeCallbackServer from "../src/layers/NodeCallbackServer.js"
import { browserLogin } from "../src/services/browserLogin.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import * as Pkce from "../src/services/Pkce.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { execFile } from "node:child_process"
import { fileURLToPath } from "node:url"
import { browserPage, chromiumAvailable, withChromium } from "./support/chromium.js"
import { tempDir } from "./support/tmp.js"

// A browser login (the library's program) against LocalIssuer's codex dialect, its sign-in page driven by a real
// headless Chromium (Debian's, through playwright-core): approve → signed in; deny → Denied with the issuer's reason.

/** A browser login at a LocalIssuer into memory: its fiber, the URL it told, the store and the issuer. */
const startLogin = Effect.gen(function* () {
  const issuer = yield* LocalIssuer.make({ interval: "1 second" })
  const store = yield* MemoryStore.make()
  const told = yield* Deferred.make<string>()
  const http = NodeHttpClient.layer
  const layer = Layer.mergeAll(
    CodexIssuer.layer({ issuer: issuer.url }).pipe(Layer.provide(Layer.merge(http, Pkce.layer))),
    IssuerResolver.layer.pipe(Layer.provide(http)),
    Layer.succeed(CredentialStore, store),
    Pkce.layer,
    NodeCallbackServer.layer,
    WorkspacePolicy.layer(Option.none())
  )
  const fiber = yield* browserLogin({
    port: 0,
    onEvent: (event) => (LoginEvent.$is("BrowserSignIn")(event) ? Deferred.succeed(told, event.url) : Effect.void)
  }).pipe(Effect.provide(layer), Effect.fork)
  return { fiber, url: yield* Deferred.await(told), store, issuer }
})

describe.skipIf(!chromiumAvailable)(
  withChromium("browser login in a real headless Chromium against LocalIssuer (codex dialect)"),
  () => {
    it.scopedLive("Approve: the browser lands on /success and the sign-in is stored", () =>
      Effect.gen(function* () {
        const { fiber, store, url } = yield* startLogin
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(url))
        yield* Effect.promise(() => Promise.all([page.waitForURL(/\/success$/), page.click("button.approve")]))
        const result = yield* Fiber.join(fiber)
        const stored = yield* store.load
        assert.isTrue(Option.isSome(stored) && Option.isSome(stored.value.tokens))
        assert.strictEqual(result.location, store.location)
        assert.include(yield* Effect.promise(() => page.textContent("body")), "Signed in")
      })
    )

    it.scopedLive("Deny: the login fails Denied with the issuer's reason; nothing stored", () =>
      Effect.gen(function* () {
        const { fiber, store, url } = yield* startLogin
        const page = yield* browserPage
        yield* Effect.promise(() => page.goto(url))
        yield* Effect.promise(() => page.click("button.deny"))
        const exit = yield* Fiber.await(fiber)
        assert.isTrue(Exit.isFailure(exit))
        const error = Exit.isFailure(exit) && exit.cause._tag === "Fail" ? exit.cause.error : undefined
        assert.instanceOf(error, DeviceAuthError)
        assert.strictEqual((error as DeviceAuthError).reason, "Denied")
        assert.include((error as DeviceAuthError).message, "The sign-in was denied.")
        assert.isTrue(Option.isNone(yield* store.load))
      })
    )
  }
)

describe("a library program's browser login (the built package, under NodeRuntime.runMain)", () => {
  it.scopedLive("ends on its own once signed in: nothing the login started keeps the process alive", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const started = Date.now()
      const result = yield* Effect.promise(
        () =>
          new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
            const child = execFile(
              process.execPath,
              [fileURLToPath(new URL("./fixtures/browser-app/login.mjs", import.meta.url)), home],
              { timeout: 60_000 },
              (error, stdout, stderr) => resolve({ code: error ? ((error.code as number) ?? 1) : 0, stdout, stderr })
            )
            child.stdin?.end()
          })
      )
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stdout, "signed in as dev@example.com\n")
      // not the callback server's 2-minute answer bound, nor any other timer of the login
      assert.isBelow(Date.now() - started, 30_000)
    })
  )
})
