import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { runCli, startCli, spendStoredRefreshToken } from "./support/cli.js"
import { request } from "./support/http.js"
import { startOidcProvider } from "./support/oidcProvider.js"
import { tempDir } from "./support/tmp.js"

const PROCESSES = 8

/** Starts `devicecode token` in several processes at once and waits for all of them. */
const tokensFromProcesses = (args: ReadonlyArray<string>, home: string) =>
  Effect.gen(function* () {
    const processes = yield* Effect.forEach(Array.from({ length: PROCESSES }), () =>
      startCli(["token", ...args], { env: { CODEX_HOME: home } })
    )
    const results = yield* Effect.forEach(processes, (p) => p.exit, { concurrency: "unbounded" })
    for (const result of results) {
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual(result.stdout.split("\n").length, 2, "one line and nothing else on stdout")
    }
    return results.map((result) => result.stdout.trim())
  })

describe("devicecode token", () => {
  it.scopedLive("8 processes sharing one CODEX_HOME refresh at the same moment: 1 refresh request, no reuse", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({
        interval: "1 second",
        accessTokenTtl: 0,
        autoApproveAfter: "100 millis"
      })
      const home = yield* tempDir
      const login = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(login.code, 0, login.stderr)
      // The stored access token was born expired; the one the refresh brings lives an hour.
      yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
      const before = yield* issuer.stats

      const tokens = yield* tokensFromProcesses([], home)
      const after = yield* issuer.stats
      assert.strictEqual(after.refresh - before.refresh, 1, "exactly one refresh request")
      assert.strictEqual(after.refreshTokenReused, 0)
      assert.strictEqual(new Set(tokens).size, 1, "every process got the refreshed token")
      assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(tokens[0]!)))
      const me = yield* request(`${issuer.url}/v1/me`, { headers: { authorization: `Bearer ${tokens[0]}` } })
      assert.strictEqual(me.status, 200)
      const stored = JSON.parse(readFileSync(join(home, "auth.json"), "utf8"))
      assert.strictEqual(stored.tokens.access_token, tokens[0])
    })
  )

  it.scopedLive("the same for an rfc8628 profile against oidc-provider", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const cli = yield* startCli(
        ["login", "--dialect", "rfc8628", "--issuer", op.issuer, "--client-id", op.clientId, "--profile", "p"],
        { env: { CODEX_HOME: home } }
      )
      const [, userCode] = yield* cli.waitFor(/one-time code[^\n]*\n\s+(\S+)/)
      yield* op.approve(userCode!)
      assert.strictEqual((yield* cli.exit).code, 0)
      // Make the stored access token look expired (its expiry is our own field in profile files).
      const path = join(home, "auth.p.json")
      const record = JSON.parse(readFileSync(path, "utf8"))
      const oldAccessToken = record.tokens.access_token
      record.tokens.expires_at = "2000-01-01T00:00:00.000Z"
      writeFileSync(path, JSON.stringify(record, null, 2))
      const tokenRequests = (yield* op.requests).filter((r) => r.method === "POST" && r.path === "/token").length

      const tokens = yield* tokensFromProcesses(["--profile", "p"], home)
      const refreshes = (yield* op.requests).filter((r) => r.method === "POST" && r.path === "/token").length
      assert.strictEqual(refreshes - tokenRequests, 1, "exactly one refresh request")
      assert.strictEqual(new Set(tokens).size, 1)
      assert.notStrictEqual(tokens[0], oldAccessToken)
      // oidc-provider revokes the whole grant on refresh-token reuse, so a working token proves there was none.
      const userinfo = yield* request(`${op.issuer}/me`, { headers: { authorization: `Bearer ${tokens[0]}` } })
      assert.strictEqual(userinfo.status, 200)
      assert.strictEqual(userinfo.json.email, op.user.email)
    })
  )

  it.scopedLive("not logged in, or a refresh token already used: exit 1, a message on stderr, nothing on stdout", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({
        interval: "1 second",
        accessTokenTtl: 0,
        autoApproveAfter: "100 millis"
      })
      const home = yield* tempDir
      const nobody = yield* runCli(["token"], { env: { CODEX_HOME: home } })
      assert.strictEqual(nobody.code, 1)
      assert.strictEqual(nobody.stdout, "")
      assert.include(nobody.stderr, "Not logged in")

      assert.strictEqual((yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })).code, 0)
      // Someone else spends the stored refresh token behind our back.
      yield* spendStoredRefreshToken(issuer, home)
      const dead = yield* runCli(["token"], { env: { CODEX_HOME: home } })
      assert.strictEqual(dead.code, 1)
      assert.strictEqual(dead.stdout, "")
      assert.include(
        dead.stderr,
        "Your access token could not be refreshed because your refresh token was already used. Another program (codex, or another devicecode) may have refreshed it and not saved the new one yet: try again in a few seconds. If it keeps failing, log out and sign in again."
      )
    })
  )
})
