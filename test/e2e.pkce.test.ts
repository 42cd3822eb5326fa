import { assert, describe, it } from "@effect/vitest"
import { Clock, Duration, Effect } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { CodexPaths } from "../src/testing/localIssuer/codex.js"
import { eventsOf, runCli } from "./support/cli.js"
import { assertNoSecrets, assertNothingStored, secretsOf, tempDir } from "./support/tmp.js"

/** What the issuer's secrets look like: an authorization code, a JWT, or a long base64url run (verifier, challenge). */
const TOKEN_LIKE = [/ac_[A-Za-z0-9_-]{8,}/, /eyJ[A-Za-z0-9_-]{10,}/, /[A-Za-z0-9_-]{40,}/]

describe("devicecode login end to end: the issuer's PKCE values and its Retry-After (child processes, real HTTP)", () => {
  it.scopedLive("a poll answer whose PKCE values do not match: exit 1, no exchange, nothing stored or printed", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      yield* issuer.setKnobs({ mismatchedPkce: true })
      const home = yield* tempDir
      const result = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(result.stderr, "device code poll failed")
      assert.include(result.stderr, "sent a response devicecode cannot read")
      assert.include(result.stderr, "the issuer's PKCE values do not match")

      const stats = yield* issuer.stats
      assert.isAtLeast(stats.poll, 1)
      assert.strictEqual(stats.exchange, 0)
      assert.deepStrictEqual(
        (yield* issuer.requests).filter((request) => request.path === "/oauth/token"),
        [],
        "nothing was sent to the token endpoint"
      )
      assert.deepStrictEqual(
        (yield* issuer.codes).map((code) => code.status),
        ["redeemed"]
      )
      assert.isFalse(existsSync(join(home, "auth.json")))
      assertNothingStored(home)
      for (const text of [result.stdout, result.stderr]) {
        for (const pattern of TOKEN_LIKE) assert.notMatch(text, pattern, "a token-like value was printed")
      }
    })
  )

  it.scopedLive(
    "a 429 poll with Retry-After: 2 waits 2 s, then the login completes (the 60 s cap: test/cli.inprocess.test.ts)",
    () =>
      Effect.gen(function* () {
        const polls: Array<number> = []
        const issuer = yield* LocalIssuer.make({
          interval: "1 second",
          autoApproveAfter: "200 millis",
          onRequest: (request) =>
            request.path === CodexPaths.poll
              ? Effect.map(Clock.currentTimeMillis, (now) => void polls.push(now))
              : Effect.void
        })
        yield* issuer.setKnobs({
          faults: [{ path: CodexPaths.poll, status: 429, headers: { "retry-after": "2" }, times: 1 }]
        })
        const home = yield* tempDir
        const result = yield* runCli(["login", "--issuer", issuer.url, "--json"], { env: { CODEX_HOME: home } })
        assert.strictEqual(result.code, 0, result.stderr)

        const requests = yield* issuer.requests
        assert.deepStrictEqual(
          requests.filter((request) => request.path === CodexPaths.poll).map((request) => request.status),
          [429, 200]
        )
        assert.strictEqual(polls.length, 2)
        const waited = polls[1]! - polls[0]!
        assert.isAtLeast(waited, 1_900)
        assert.isBelow(waited, 20_000)
        const stats = yield* issuer.stats
        assert.strictEqual(stats.faults, 1)
        assert.strictEqual(stats.exchange, 1)

        const events = eventsOf(result.stdout)
        const retrying = events.filter((event) => event.event === "retrying")
        assert.strictEqual(retrying.length, 1)
        const [retry] = retrying
        if (retry?.event === "retrying") {
          assert.strictEqual(Duration.toSeconds(retry.delay), 2)
          assert.include(retry.message, "429")
        }
        assert.strictEqual(events.at(-1)?.event, "logged_in")
        const authJson = readFileSync(join(home, "auth.json"), "utf8")
        assert.strictEqual(JSON.parse(authJson).tokens.oauth_provenance.issuer, issuer.url)
        assertNoSecrets([result.stdout, result.stderr], secretsOf(authJson))
      }),
    120_000
  )
})
