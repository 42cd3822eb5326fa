import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Schema } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { codexEndpoints } from "../src/domain/CodexWire.js"
import { CliEvents } from "../src/index.js"
import { submitUserCode } from "../src/testing/browser.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { eventsOf, runCli, startCli } from "./support/cli.js"
import { assertNoSecrets, assertNothingStored, secretsOf, tempDir } from "./support/tmp.js"

const USER_CODE_JSON = /"user_code":"([A-Z0-9-]+)"/

/** Starts `login --json` against the issuer and returns the process and the user code of its first event. */
const startJsonLogin = (
  issuer: LocalIssuer.LocalIssuer,
  home: string,
  extra: ReadonlyArray<string> = [],
  env: Record<string, string> = {}
) =>
  Effect.gen(function* () {
    const cli = yield* startCli(["login", "--issuer", issuer.url, "--json", ...extra], {
      env: { CODEX_HOME: home, ...env }
    })
    const [, userCode] = yield* cli.waitFor(USER_CODE_JSON)
    return { cli, userCode: userCode! }
  })

const approve = (issuer: LocalIssuer.LocalIssuer, userCode: string, action?: "deny") =>
  submitUserCode(codexEndpoints(issuer.url).verification, userCode, action)

/** The lines of a QR code: those with block characters (its quiet zone is drawn light, in full blocks). */
const qrLines = (text: string): ReadonlyArray<string> => text.split("\n").filter((line) => /[█▀▄]/.test(line))

describe("devicecode --json and friends, end to end (child processes, real HTTP)", () => {
  it.scopedLive("login --json: NDJSON events only, code first, logged_in last, never a token", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli, userCode } = yield* startJsonLogin(issuer, home)
      yield* cli.waitFor(/"event":"waiting"/)
      yield* approve(issuer, userCode)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      const events = eventsOf(result.stdout)
      const first = events[0]!
      assert.strictEqual(first.event, "code")
      if (first.event === "code") {
        assert.strictEqual(first.userCode, userCode)
        assert.strictEqual(first.verificationUri, codexEndpoints(issuer.url).verification)
        assert.match(JSON.parse(result.stdout.split("\n")[0]!).expires_at, /^\d{4}-\d\d-\d\dT.*Z$/)
      }
      assert.isTrue(events.some((event) => event.event === "waiting"))
      const last = events.at(-1)!
      assert.strictEqual(last.event, "logged_in")
      assert.deepStrictEqual(JSON.parse(result.stdout.trim().split("\n").at(-1)!), {
        event: "logged_in",
        method: "chatgpt",
        email: "dev@example.com",
        plan: "plus",
        account_id: "acct_local_0001",
        profile: "default"
      })
      assert.notInclude(result.stdout, "phishing")
      assert.notInclude(result.stdout, "Successfully")
      assertNoSecrets([result.stdout, result.stderr], secretsOf(readFileSync(join(home, "auth.json"), "utf8")))
    })
  )

  it.scopedLive("a slow_down answer is a slow_down event", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* issuer.setKnobs({ slowDownPolls: 1 })
      const home = yield* tempDir
      const { cli, userCode } = yield* startJsonLogin(issuer, home)
      yield* cli.waitFor(/"event":"slow_down"/)
      yield* approve(issuer, userCode)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      const slowDown = eventsOf(result.stdout).find((event) => event.event === "slow_down")
      assert.isDefined(slowDown)
      assert.isAbove(JSON.parse(result.stdout.split("\n").find((l) => l.includes("slow_down"))!).interval, 1)
    })
  )

  it.scopedLive("a retried code request and a retried exchange: retrying events in --json, lines on stderr", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "100 millis" })
      const home = yield* tempDir
      const faults = [
        { path: "/api/accounts/deviceauth/usercode", status: 503, headers: { "retry-after": "1" } },
        { path: "/oauth/token", status: 503, headers: { "retry-after": "1" } }
      ]
      yield* issuer.setKnobs({ faults })
      const json = yield* runCli(["login", "--issuer", issuer.url, "--json"], { env: { CODEX_HOME: home } })
      assert.strictEqual(json.code, 0, json.stderr)
      const events = eventsOf(json.stdout)
      const kinds = events.map((event) => event.event).filter((kind) => kind !== "waiting")
      assert.deepStrictEqual(kinds, ["retrying", "code", "approved", "retrying", "logged_in"])
      for (const event of events) {
        if (event.event === "retrying") {
          assert.include(event.message, "503")
          assert.isAtLeast(Duration.toSeconds(event.delay), 1)
        }
      }

      yield* issuer.setKnobs({ faults })
      const text = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(text.code, 0, text.stderr)
      const retries = text.stderr.split("\n").filter((line) => /; retrying in \d+s\.$/.test(line))
      assert.strictEqual(retries.length, 2, text.stderr)
      assert.match(retries[0]!, /^device code request could not reach .*503/)
      assert.match(retries[1]!, /^device code exchange could not reach .*503/)
      assert.isBelow(text.stderr.indexOf(retries[0]!), text.stderr.indexOf("Approved"), "before the prompt's approval")
      assert.isAbove(text.stderr.indexOf(retries[1]!), text.stderr.indexOf("Approved"), "the exchange, after it")
    })
  )

  it.scopedLive("a denied login is an error event with the tag and reason, exit 1", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli, userCode } = yield* startJsonLogin(issuer, home)
      yield* approve(issuer, userCode, "deny")
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1)
      const last = eventsOf(result.stdout).at(-1)!
      assert.strictEqual(last.event, "error")
      const line = JSON.parse(result.stdout.trim().split("\n").at(-1)!)
      assert.strictEqual(line.code, "DeviceAuthError")
      assert.strictEqual(line.reason, "Denied")
      assert.include(line.message, "denied")
      assertNothingStored(home)
    })
  )

  it.scopedLive("Ctrl-C in --json mode: a Cancelled error event, exit 130", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli } = yield* startJsonLogin(issuer, home)
      yield* cli.waitFor(/"event":"waiting"/)
      yield* cli.kill("SIGINT")
      const result = yield* cli.exit
      assert.strictEqual(result.code, 130, result.stderr)
      assert.deepStrictEqual(JSON.parse(result.stdout.trim().split("\n").at(-1)!), {
        event: "error",
        code: "Cancelled",
        message: "Login cancelled"
      })
      eventsOf(result.stdout)
    })
  )

  it.scopedLive("status, token and logout --json; errors and usage errors as one JSON line", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      const login = yield* runCli(["login", "--issuer", issuer.url, "--json"], { env })
      assert.strictEqual(login.code, 0, login.stderr)
      const authJson = readFileSync(join(home, "auth.json"), "utf8")

      const status = yield* runCli(["status", "--json"], { env })
      assert.strictEqual(status.code, 0)
      const report = Schema.decodeUnknownSync(CliEvents.StatusReport)(JSON.parse(status.stdout))
      assert.strictEqual(report.logged_in, true)
      assert.strictEqual(report.email, "dev@example.com")

      const token = yield* runCli(["token", "--json"], { env })
      assert.strictEqual(token.code, 0, token.stderr)
      assert.strictEqual(token.stdout.trim().split("\n").length, 1)
      const tokenLine = JSON.parse(token.stdout)
      assert.deepStrictEqual(Object.keys(tokenLine), ["access_token", "expires_at", "profile"])
      assert.strictEqual(tokenLine.access_token, JSON.parse(authJson).tokens.access_token)
      assert.match(tokenLine.expires_at, /^\d{4}-\d\d-\d\dT/)
      assert.strictEqual(tokenLine.profile, "default")
      Schema.decodeUnknownSync(CliEvents.TokenOutput)(tokenLine)

      const logout = yield* runCli(["logout", "--json"], { env })
      assert.strictEqual(logout.code, 0, logout.stderr)
      assert.deepStrictEqual(JSON.parse(logout.stdout), {
        event: "logged_out",
        profile: "default",
        removed: true,
        revoked: true
      })
      const again = yield* runCli(["logout", "--json"], { env })
      assert.deepStrictEqual(JSON.parse(again.stdout), {
        event: "logged_out",
        profile: "default",
        removed: false,
        revoked: false
      })

      const after = yield* runCli(["status", "--json"], { env })
      assert.strictEqual(after.code, 1)
      assert.strictEqual(JSON.parse(after.stdout).logged_in, false)

      const noToken = yield* runCli(["token", "--json"], { env })
      assert.strictEqual(noToken.code, 1)
      assert.strictEqual(noToken.stdout.trim().split("\n").length, 1)
      assert.deepStrictEqual(JSON.parse(noToken.stdout), {
        event: "error",
        code: "NotLoggedIn",
        message: "Not logged in"
      })

      const usage = yield* runCli(["login", "--json", "--bogus"], { env })
      assert.strictEqual(usage.code, 2)
      const [usageEvent] = eventsOf(usage.stdout)
      assert.strictEqual(usageEvent?.event, "error")
      assert.strictEqual(JSON.parse(usage.stdout).code, "UsageError")

      const missingHome = yield* runCli(["status", "--json"], { env: { CODEX_HOME: join(home, "missing") } })
      assert.strictEqual(missingHome.code, 1)
      assert.strictEqual(JSON.parse(missingHome.stdout).code, "ConfigError")
      assert.strictEqual(JSON.parse(missingHome.stdout).reason, "CodexHome")

      const apiKey = yield* runCli(["login", "--with-api-key", "--json"], { env, input: "sk-test-0123456789abcdef\n" })
      assert.strictEqual(apiKey.code, 0, apiKey.stderr)
      assert.deepStrictEqual(JSON.parse(apiKey.stdout), { event: "logged_in", method: "apikey", profile: "default" })
      assert.notInclude(apiKey.stdout, "sk-test")
      assertNoSecrets(
        [login, status, logout, again, after, noToken, apiKey].flatMap((r) => [r.stdout, r.stderr]),
        secretsOf(authJson)
      )
    })
  )

  it.scopedLive("--qr prints a QR code of block characters within 80 columns; with --json it is a usage error", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      const text = yield* runCli(["login", "--issuer", issuer.url, "--qr"], { env: { CODEX_HOME: home } })
      assert.strictEqual(text.code, 0, text.stderr)
      const qr = qrLines(text.stdout)
      assert.isAtLeast(qr.length, 10, text.stdout)
      // Every character the QR code uses is one column wide; the quiet zone is light (full blocks), as wide as the code.
      for (const line of qr) assert.isAtMost([...line].length, 80)
      assert.match(qr[0]!, /^█{20,}$/)
      assert.strictEqual([...qr[0]!].length, [...qr[1]!].length)
      assert.isBelow(text.stdout.indexOf("phishing"), text.stdout.indexOf("█"), "the QR code follows the prompt")
      // asked for both, it is a usage error before any request, not a silently dropped --qr
      const before = (yield* issuer.stats).usercode
      const json = yield* runCli(["login", "--issuer", issuer.url, "--qr", "--json"], { env: { CODEX_HOME: home } })
      assert.strictEqual(json.code, 2, json.stderr)
      assert.notMatch(json.stdout, /[█▀▄]/)
      assert.deepStrictEqual(
        eventsOf(json.stdout).map((event) => event.event),
        ["error"]
      )
      assert.include(json.stderr, "--qr draws a code on the terminal and --json prints only JSON")
      assert.strictEqual((yield* issuer.stats).usercode, before)
    })
  )

  it.scopedLive("--open without any browser or xdg-open: one warning, and the login goes on", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const emptyPath = yield* tempDir
      const cli = yield* startCli(["login", "--issuer", issuer.url, "--open"], {
        env: { CODEX_HOME: home, PATH: emptyPath }
      })
      const [, userCode] = yield* cli.waitFor(/\b([A-Z0-9]{4}-[A-Z0-9]{5})\b/)
      yield* cli.waitFor(/Warning: could not open a browser/, "stderr")
      yield* approve(issuer, userCode!)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      const warnings = result.stderr.split("\n").filter((line) => line.includes("could not open a browser"))
      assert.strictEqual(warnings.length, 1, result.stderr)
      assert.include(warnings[0]!, codexEndpoints(issuer.url).verification)
      assert.include(result.stdout, "Successfully logged in as dev@example.com")
    })
  )

  it.scopedLive("completion bash|zsh|fish prints a script for devicecode", () =>
    Effect.gen(function* () {
      for (const shell of ["bash", "zsh", "fish"]) {
        const result = yield* runCli(["completion", shell])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stdout, "devicecode")
        assert.include(result.stdout, "login")
      }
      const bad = yield* runCli(["completion", "powershell"])
      assert.strictEqual(bad.code, 2)
    })
  )

  it.scopedLive("--version, and an example in every command's --help", () =>
    Effect.gen(function* () {
      const version = yield* runCli(["--version"])
      assert.strictEqual(version.code, 0)
      assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+/)
      for (const command of ["login", "status", "token", "logout", "demo", "issuer", "completion"]) {
        const help = yield* runCli([command, "--help"])
        assert.strictEqual(help.code, 0, help.stderr)
        assert.match(help.stdout, /Example: devicecode /, command)
      }
    })
  )

  it.scopedLive("status prints no escape code with NO_COLOR=1 or into a pipe, logged in or not", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      const before = yield* runCli(["status"], { env: { CODEX_HOME: home, NO_COLOR: "1" } })
      assert.strictEqual(before.code, 1)
      const login = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(login.code, 0, login.stderr)
      const noColor = yield* runCli(["status"], { env: { CODEX_HOME: home, NO_COLOR: "1" } })
      // The child's stdout is a pipe here, as in `devicecode status | cat`.
      const piped = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      const all = yield* runCli(["status", "--all"], { env: { CODEX_HOME: home } })
      for (const result of [before, noColor, piped, all]) {
        assert.notInclude(result.stdout + result.stderr, "\x1b")
      }
      assert.include(piped.stdout, "Logged in using ChatGPT")
    })
  )
})
