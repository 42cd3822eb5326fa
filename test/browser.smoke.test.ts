import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import * as NodeCallbackServer from "../src/layers/NodeCallbackServer.js"
import { CallbackAnswer } from "../src/services/CallbackServer.js"
import { browserPage, chromiumAvailable, withChromium } from "./support/chromium.js"

// A real headless Chromium (Debian's, driven by playwright-core; no browser download) through a browser login's
// redirect: the groundwork of issue 21's browser tests. DEVICECODE_REQUIRE_CHROMIUM=1 (CI) fails instead of skipping.

describe.skipIf(!chromiumAvailable)(withChromium("a real headless Chromium through the callback server"), () => {
  it.scopedLive("follows the callback's redirect to /success and shows its page", () =>
    Effect.gen(function* () {
      const server = yield* NodeCallbackServer.open({
        port: 0,
        callbackPath: "/auth/callback",
        successPage: "<title>devicecode</title><p id=done>Signed in</p>"
      })
      const base = `http://127.0.0.1:${server.port}`
      const page = yield* browserPage
      const navigation = yield* Effect.fork(
        Effect.promise(() => page.goto(`${base}/auth/callback?code=c0de&state=st4te`))
      )
      const callback = yield* server.next
      assert.strictEqual(callback.params.get("state"), "st4te")
      yield* callback.respond(CallbackAnswer.Redirect({ location: `${base}/success` }))
      yield* navigation.await
      assert.strictEqual(page.url(), `${base}/success`)
      assert.strictEqual(yield* Effect.promise(() => page.textContent("#done")), "Signed in")
    })
  )
})
