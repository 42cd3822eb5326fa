import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Option } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { DeviceAuthError } from "../src/domain/Errors.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { chatgptClaims, unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { type CliResult, expiredSignIn, runCli } from "./support/cli.js"
import { request } from "./support/http.js"
import { tempDir } from "./support/tmp.js"
import { rssProbe } from "./support/rss.js"
import { timed } from "./support/wait.js"

/**
 * Hostile servers, hostile input, hard kills: the built CLI as a child process against LocalIssuer faults. Each run's
 * output goes through the same checks — no stack trace, no RangeError, no raw escape byte, no secret — and the output
 * of every `--verbose` and `--json` run is printed on a `[cli-output]` line, so the CI secret scan of the test log
 * covers it too.
 */

const paths = {
  userCode: "/api/accounts/deviceauth/usercode",
  poll: "/api/accounts/deviceauth/token",
  token: "/oauth/token"
} as const

const MiB = 1024 * 1024

/** A stack frame line, as `Cause.pretty` or an uncaught exception prints it. */
const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m

/** Fails if the run printed a stack trace, a RangeError or a raw terminal control byte (ESC, CSI, BEL). */
const assertClean = (result: CliResult, label: string) => {
  for (const [name, text] of [
    ["stdout", result.stdout],
    ["stderr", result.stderr]
  ] as const) {
    assert.isFalse(STACK_FRAME.test(text), `${label}: a stack trace on ${name}:\n${JSON.stringify(text)}`)
    assert.notInclude(text, "RangeError", `${label}: a RangeError on ${name}`)
    assert.isFalse(
      /[\u001b\u009b\u0007]/.test(text),
      `${label}: a raw control byte on ${name}: ${JSON.stringify(text)}`
    )
  }
}

/** Fails, without printing them, if any secret (or a JWT's payload) appears in the run's output. */
const assertNotPrinted = (result: CliResult, secrets: ReadonlyArray<string>, label: string) => {
  for (const secret of secrets) {
    for (const piece of [secret, ...secret.split(".").filter((p) => p.length >= 16)]) {
      assert.isFalse(result.stdout.includes(piece), `${label}: a secret was printed on stdout`)
      assert.isFalse(result.stderr.includes(piece), `${label}: a secret was printed on stderr`)
    }
  }
}

/**
 * Prints a `--verbose`/`--json` run's output into the test log on one `[cli-output]` line per stream (JSON-escaped),
 * for the CI secret scan. `stdout: false` for `token`, whose stdout is the token by design.
 */
const logForScan = (label: string, result: CliResult, options: { readonly stdout?: boolean } = {}) => {
  if (options.stdout !== false) console.log(`[cli-output] ${label} stdout: ${JSON.stringify(result.stdout)}`)
  console.log(`[cli-output] ${label} stderr: ${JSON.stringify(result.stderr)}`)
}

/** Files in CODEX_HOME that hold (or could hold) a sign-in: auth.json, its temp files, anything set aside. */
const storedFiles = (home: string) => readdirSync(home).filter((name) => /auth/.test(name) && !name.endsWith(".lock"))

/** Runs the CLI with the RSS probe; its result and its peak RSS in MiB. */
const runMeasured = (args: ReadonlyArray<string>, home: string, probe: string, name: string) =>
  Effect.gen(function* () {
    const out = join(home, `${name}.rss`)
    const result = yield* runCli(args, { env: { CODEX_HOME: home, NODE_OPTIONS: `--require ${probe}`, RSS_OUT: out } })
    return { result, rssMiB: Number(readFileSync(out, "utf8")) / 1024 }
  })

describe("LocalIssuer hostile faults (the kit itself)", () => {
  it.scopedLive("bodyBytes streams a body of exactly that size, chunked, without a Content-Length", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 200, bodyBytes: 5 * MiB }] })
      const answer = yield* request(`${issuer.url}${paths.userCode}`, { method: "POST", body: "{}" })
      assert.strictEqual(answer.status, 200)
      assert.isNull(answer.headers.get("content-length"))
      assert.strictEqual(answer.headers.get("transfer-encoding"), "chunked")
      assert.strictEqual(Buffer.byteLength(answer.text), 5 * MiB)
      assert.isTrue(answer.text.startsWith('{"error":{"code":"injected_fault","message":"aaaa'))
      // the fault is spent: the next request is handled normally
      const next = yield* request(`${issuer.url}${paths.userCode}`, { method: "POST", body: "{}" })
      assert.strictEqual(next.status, 400)
    })
  )

  it.scopedLive("a client that hangs up stops a 1 GiB stream, and the issuer keeps answering", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 200, bodyBytes: 1024 * MiB }] })
      const read = yield* Effect.promise(async () => {
        const response = await fetch(`${issuer.url}${paths.userCode}`, { method: "POST", body: "{}" })
        const reader = response.body!.getReader()
        let size = 0
        while (size < MiB) size += (await reader.read()).value?.length ?? Infinity
        await reader.cancel()
        return size
      })
      assert.isAtLeast(read, MiB)
      const next = yield* request(`${issuer.url}/.well-known/openid-configuration`)
      assert.strictEqual(next.status, 200)
    })
  )

  it.scopedLive("dripMillis sends the headers at once and the body a byte at a time", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 503, body: '{"e":1}', dripMillis: 30 }] })
      const { millis, value } = yield* timed(request(`${issuer.url}${paths.userCode}`, { method: "POST", body: "{}" }))
      assert.strictEqual(value.status, 503)
      assert.strictEqual(value.headers.get("content-length"), "7")
      assert.strictEqual(value.text, '{"e":1}')
      assert.isAtLeast(millis, 6 * 30)
    })
  )

  it.scopedLive("CodexIssuer over real HTTP: a dripping answer times out, a 100 MiB one is refused at 1 MiB", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make()
      const codex = yield* CodexIssuer.makeLoginFlow({ issuer: issuer.url, requestTimeout: "400 millis" }).pipe(
        Effect.provide(Pkce.layer)
      )
      yield* issuer.setKnobs({
        faults: [{ path: paths.userCode, status: 200, bodyBytes: 1024 * MiB, dripMillis: 50, dripBytes: 16 }]
      })
      const dripping = yield* timed(Effect.exit(codex.start))
      assert.isTrue(Exit.isFailure(dripping.value))
      const slow = Exit.isFailure(dripping.value) ? dripping.value.cause : undefined
      assert.strictEqual(
        slow?._tag === "Fail" && slow.error instanceof DeviceAuthError && slow.error.reason,
        "Unavailable"
      )
      assert.isBelow(dripping.millis, 3000, "the timeout covers reading the body, not only its headers")

      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 200, bodyBytes: 100 * MiB }] })
      const huge = yield* Effect.flip(codex.start)
      assert.strictEqual(huge.reason, "Malformed")
      assert.match(huge.message, /1 MiB/)
    }).pipe(Effect.provide(NodeHttpClient.layerUndici))
  )
})

describe("devicecode against hostile servers and input (child processes, real HTTP)", () => {
  it.scopedLive("a 100 MiB usercode or poll answer: a clean error, memory bounded", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const probe = rssProbe(home)
      const login = ["login", "--issuer", issuer.url]

      // the same failure with a small body, for the memory baseline
      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 400, body: '{"error":"invalid_request"}' }] })
      const baseline = yield* runMeasured(login, home, probe, "baseline")
      assert.strictEqual(baseline.result.code, 1, baseline.result.stderr)

      yield* issuer.setKnobs({ faults: [{ path: paths.userCode, status: 200, bodyBytes: 100 * MiB }] })
      const usercode = yield* runMeasured(login, home, probe, "usercode")
      assert.strictEqual(usercode.result.code, 1, usercode.result.stderr)
      assert.match(usercode.result.stderr, /1 MiB|too large|larger/i)
      assertClean(usercode.result, "100 MiB usercode answer")
      assert.isBelow(usercode.rssMiB - baseline.rssMiB, 64, `peak RSS ${usercode.rssMiB} MiB vs ${baseline.rssMiB}`)

      yield* issuer.setKnobs({ faults: [{ path: paths.poll, status: 200, bodyBytes: 100 * MiB, times: 1000 }] })
      const poll = yield* runMeasured([...login, "--json"], home, probe, "poll")
      logForScan("login --json (100 MiB poll answers)", poll.result)
      assert.strictEqual(poll.result.code, 1, poll.result.stderr)
      assert.match(poll.result.stdout + poll.result.stderr, /1 MiB|too large|larger/i)
      assertClean(poll.result, "100 MiB poll answers")
      assert.isBelow(poll.rssMiB - baseline.rssMiB, 64, `peak RSS ${poll.rssMiB} MiB vs ${baseline.rssMiB}`)
      assert.deepStrictEqual(storedFiles(home), [])
      console.log(
        `peak RSS: ${baseline.rssMiB.toFixed(0)} MiB for a small error, ${usercode.rssMiB.toFixed(0)} MiB for a 100 MiB usercode answer, ${poll.rssMiB.toFixed(0)} MiB for 100 MiB poll answers`
      )
    })
  )

  it.scopedLive("3000-deep JSON in a 200 and in an error answer: a clean error, no RangeError", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const deepArray = "[".repeat(3000) + "]".repeat(3000)
      const deepObject = `${'{"error":'.repeat(3000)}"x"${"}".repeat(3000)}`
      const cases = [
        { label: "deep 200 usercode", fault: { path: paths.userCode, status: 200, body: deepArray } },
        { label: "deep 400 usercode", fault: { path: paths.userCode, status: 400, body: deepObject } },
        // every poll: an unreadable poll answer is retried a few times before the login gives up
        { label: "deep 500 poll", fault: { path: paths.poll, status: 500, body: deepObject, times: 1000 } }
      ]
      for (const { fault, label } of cases) {
        for (const extra of [[], ["--json", "--verbose"]]) {
          yield* issuer.setKnobs({ faults: [fault] })
          const result = yield* runCli(["login", "--issuer", issuer.url, ...extra], { env: { CODEX_HOME: home } })
          if (extra.length > 0) logForScan(`login ${extra.join(" ")} (${label})`, result)
          assert.strictEqual(result.code, 1, `${label}: ${result.stderr}`)
          assertClean(result, label)
        }
      }
      assert.deepStrictEqual(storedFiles(home), [])
    })
  )

  it.scopedLive(
    "a user code and an error message with ESC[2J and an OSC title: no escape byte reaches the terminal",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second" })
        const home = yield* tempDir
        const hostileCode = {
          path: paths.userCode,
          status: 200,
          body: JSON.stringify({
            device_auth_id: "deviceauth_hostile",
            user_code: "\u001b[2J\u001b]0;pwned\u0007AB12-\u009b31mCD345",
            interval: "1"
          })
        }
        const hostileError = {
          path: paths.poll,
          status: 400,
          body: JSON.stringify({
            error: { code: "bad\u001b[2J", message: "\u001b]0;title\u0007denied\u001b[31m red \u0008\r" }
          })
        }
        for (const extra of [[], ["--json"], ["--verbose", "--no-color"]]) {
          yield* issuer.setKnobs({ faults: [hostileCode, hostileError] })
          const result = yield* runCli(["login", "--issuer", issuer.url, ...extra], { env: { CODEX_HOME: home } })
          if (extra.length > 0) logForScan(`login ${extra.join(" ")} (hostile user code)`, result)
          assert.strictEqual(result.code, 1, result.stderr)
          assert.include(result.stdout + result.stderr, "AB12", "the printable part of the code is still shown")
          assertClean(result, `login ${extra.join(" ")} with a hostile user code`)
        }
      })
  )

  it.scopedLive("a 500 whose body holds tokens: neither is printed, with or without --verbose/--json", () =>
    Effect.gen(function* () {
      const { home, issuer } = yield* expiredSignIn
      const access = unsignedJwt({ ...chatgptClaims(), exp: 4_102_444_800, leaked: "access" })
      const refresh = `rt_${"LeakedRefreshToken".repeat(3)}`
      const idToken = unsignedJwt({ ...chatgptClaims(), leaked: "id" })
      const body = JSON.stringify({ access_token: access, refresh_token: refresh, id_token: idToken })
      const leaky = (path: string) => ({ path, status: 500, body })
      const secrets = [access, refresh, idToken]

      for (const extra of [[], ["--json", "--verbose"]]) {
        yield* issuer.setKnobs({ faults: [leaky(paths.userCode)] })
        const other = yield* tempDir
        const login = yield* runCli(["login", "--issuer", issuer.url, ...extra], { env: { CODEX_HOME: other } })
        if (extra.length > 0) logForScan(`login ${extra.join(" ")} (500 with tokens)`, login)
        assert.strictEqual(login.code, 1, login.stderr)
        assertNotPrinted(login, secrets, `login ${extra.join(" ")}`)
        assertClean(login, "login against a 500 with tokens")
      }

      // the refresh answered once by such a 500, then normally: the token printed is the new one, not the leaked one
      yield* issuer.setKnobs({ faults: [leaky(paths.token)] })
      const token = yield* runCli(["token", "--verbose"], { env: { CODEX_HOME: home } })
      logForScan("token --verbose (a 500 with tokens, then a refresh)", token, { stdout: false })
      assertNotPrinted(token, secrets, "token --verbose")
      assertClean(token, "token after a 500 with tokens")
      if (token.code === 0) {
        const printed = token.stdout.trim()
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(printed)), "the token printed is the issuer's")
      } else assert.strictEqual(token.code, 1)
    })
  )

  it.scopedLive('an exchange answer with access_token " ": the login fails and nothing is stored', () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "100 millis" })
      const home = yield* tempDir
      const blank = {
        path: paths.token,
        status: 200,
        body: JSON.stringify({
          id_token: unsignedJwt(chatgptClaims()),
          access_token: " ",
          refresh_token: `rt_${"BlankAccessCase".repeat(3)}`
        }),
        times: 1000
      }
      yield* issuer.setKnobs({ faults: [blank] })
      const result = yield* runCli(["login", "--issuer", issuer.url, "--json"], { env: { CODEX_HOME: home } })
      logForScan("login --json (blank access_token)", result)
      assert.strictEqual(result.code, 1, result.stderr)
      assertClean(result, "login with a blank access token")
      assert.isAtLeast((yield* issuer.stats).faults, 1, "the exchange was answered by the fault")
      assert.deepStrictEqual(storedFiles(home), [])
    })
  )

  it.scopedLive("login --issuer over plain http to a non-loopback host: exit 2, says https, sends nothing", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      // 192.0.2.1 (TEST-NET-1) never answers: a request would hang, not fail fast
      for (const url of ["http://example.com", "http://192.0.2.1:9"]) {
        const { millis, value: result } = yield* timed(
          runCli(["login", "--issuer", url], { env: { CODEX_HOME: home } })
        )
        assert.strictEqual(result.code, 2, `${url}: ${result.stderr}`)
        assert.include(result.stderr, "https")
        assert.isBelow(millis, 10_000, `${url}: answered at once, without a request`)
        assertClean(result, `login --issuer ${url}`)
      }
      assert.deepStrictEqual(storedFiles(home), [])
    })
  )

  it.scopedLive("an API key with a space, a newline or a control character inside is refused, not stored", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const key = "sk-proj-InnerSpaceKey0123456789"
      for (const input of [`${key} tail\n`, `${key}\ntail\n`, `${key}\u0007tail`]) {
        const result = yield* runCli(["login", "--with-api-key"], { env: { CODEX_HOME: home }, input })
        assert.notStrictEqual(result.code, 0, "refused")
        assert.isAbove(result.stderr.length, 0)
        assertNotPrinted(result, [key], "login --with-api-key")
        assertClean(result, "login --with-api-key")
        assert.deepStrictEqual(storedFiles(home), [])
      }
    })
  )

  it.scopedLive("one unreadable (HTML) 2xx poll answer: the login still completes", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "100 millis" })
      const home = yield* tempDir
      yield* issuer.setKnobs({
        faults: [{ path: paths.poll, status: 200, body: "<html><body><h1>Maintenance</h1></body></html>" }]
      })
      const result = yield* runCli(["login", "--issuer", issuer.url, "--json", "--verbose"], {
        env: { CODEX_HOME: home }
      })
      logForScan("login --json --verbose (one HTML poll answer)", result)
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual((yield* issuer.stats).faults, 1)
      assert.isTrue(existsSync(join(home, "auth.json")))
      assertClean(result, "login after an HTML poll answer")
      // and the other commands' --verbose/--json output, for the scan
      for (const args of [
        ["status", "--json", "--verbose"],
        ["token", "--verbose"],
        ["logout", "--json", "--verbose"]
      ]) {
        const run = yield* runCli(args, { env: { CODEX_HOME: home } })
        assert.strictEqual(run.code, 0, run.stderr)
        logForScan(args.join(" "), run, { stdout: args[0] !== "token" })
      }
    })
  )
})
