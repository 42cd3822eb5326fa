import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync } from "node:fs"
import { join } from "node:path"
import { submitUserCode } from "../src/testing/browser.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { runCli, startCli } from "./support/cli.js"
import { assertNothingStored, tempDir } from "./support/tmp.js"

const USER_CODE = /one-time code[^\n]*\n\s+(\S+)/

const rfc8628Login = (issuer: LocalIssuer.LocalIssuer, home: string) =>
  startCli(
    ["login", "--dialect", "rfc8628", "--issuer", issuer.url, "--client-id", issuer.oidcClientId, "--profile", "p"],
    {
      env: { CODEX_HOME: home }
    }
  )

describe("RFC 8628 CLI against LocalIssuer's standard endpoints", () => {
  it.scopedLive("slow_down is shown and kept; the code is approved on the /device page", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* issuer.setKnobs({ slowDownPolls: 1 })
      const home = yield* tempDir
      const cli = yield* rfc8628Login(issuer, home)
      const [, userCode] = yield* cli.waitFor(USER_CODE)
      yield* cli.waitFor(/slow down; polling every 6s/, "stderr")
      yield* submitUserCode(`${issuer.url}/device`, userCode!)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, `${issuer.url}/device?user_code=`)
      assert.include(result.stdout, `Successfully logged in to ${issuer.url} as dev@example.com (profile p)`)
      assert.isTrue(existsSync(join(home, "auth.p.json")))
      assert.isFalse(existsSync(join(home, "auth.json")))
    })
  )

  it.scopedLive("an expired code ends with its own message", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const cli = yield* rfc8628Login(issuer, home)
      const [, userCode] = yield* cli.waitFor(USER_CODE)
      assert.isTrue(yield* issuer.expire(userCode!))
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "the device code expired before it was approved")
      assertNothingStored(home, "p")
    })
  )

  it.scopedLive("misconfigured providers: no device endpoint, another issuer, no discovery at all", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const expectations: ReadonlyArray<readonly [LocalIssuer.LocalIssuerDiscovery, string]> = [
        ["no-device-endpoint", "no device_authorization_endpoint"],
        ["wrong-issuer", "https://wrong-issuer.invalid"],
        ["missing", "/.well-known/oauth-authorization-server"]
      ]
      for (const [discovery, message] of expectations) {
        yield* issuer.setKnobs({ discovery })
        const result = yield* runCli(
          ["login", "--dialect", "rfc8628", "--issuer", issuer.url, "--client-id", issuer.oidcClientId],
          { env: { CODEX_HOME: home } }
        )
        assert.strictEqual(result.code, 1, discovery)
        assert.include(result.stderr, message, discovery)
        assert.include(result.stderr, "cannot run this device login", discovery)
      }
      // the profile is named after the issuer's host
      assertNothingStored(home, new URL(issuer.url).host.replace(":", "-"))
    })
  )
})
