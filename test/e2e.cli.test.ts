import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { codexEndpoints } from "../src/domain/CodexWire.js"
import { submitUserCode } from "../src/testing/browser.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { runCli, startCli } from "./support/cli.js"
import { assertNoSecrets, assertNothingStored, secretsOf, tempDir } from "./support/tmp.js"

const USER_CODE = /\b([A-Z0-9]{4}-[A-Z0-9]{5})\b/

/** Starts `login` against the issuer and returns the process and the user code it printed. */
const startLogin = (issuer: LocalIssuer.LocalIssuer, home: string, extra: ReadonlyArray<string> = []) =>
  Effect.gen(function* () {
    const cli = yield* startCli(["login", "--issuer", issuer.url, ...extra], { env: { CODEX_HOME: home } })
    const [, userCode] = yield* cli.waitFor(USER_CODE)
    return { cli, userCode: userCode! }
  })

describe("devicecode CLI end to end (child processes, real HTTP)", () => {
  it.scopedLive("login approved through the page, then status, status --json, logout, status", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli, userCode } = yield* startLogin(issuer, home)
      const page = yield* submitUserCode(codexEndpoints(issuer.url).verification, userCode)
      assert.include(page, "Approved")
      const login = yield* cli.exit
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stdout, `${issuer.url}/codex/device`)
      assert.include(login.stdout, "phishing")
      assert.include(login.stdout, "Successfully logged in as dev@example.com (plus)")

      const authPath = join(home, "auth.json")
      const authJson = readFileSync(authPath, "utf8")
      assert.strictEqual(statSync(authPath).mode & 0o777, 0o600)
      const record = JSON.parse(authJson)
      assert.deepStrictEqual(Object.keys(record), ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"])
      assert.deepStrictEqual(Object.keys(record.tokens), [
        "id_token",
        "access_token",
        "refresh_token",
        "oauth_provenance",
        "login_owner_id",
        "account_id"
      ])
      assert.strictEqual(record.tokens.oauth_provenance.issuer, issuer.url)
      assert.strictEqual(record.tokens.account_id, "acct_local_0001")
      // codex's forms: 32 random bytes base64url, and nanoseconds
      assert.match(record.tokens.login_owner_id, /^[A-Za-z0-9_-]{43}$/)
      assert.match(record.last_refresh, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/)
      assert.isFalse(authJson.endsWith("\n"))

      const status = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.strictEqual(status.code, 0)
      assert.include(status.stdout, "Logged in using ChatGPT")
      assert.include(status.stdout, "dev@example.com")

      const json = yield* runCli(["status", "--json"], { env: { CODEX_HOME: home } })
      assert.strictEqual(json.code, 0)
      const report = JSON.parse(json.stdout)
      assert.strictEqual(report.logged_in, true)
      assert.strictEqual(report.method, "chatgpt")
      assert.strictEqual(report.email, "dev@example.com")
      assert.strictEqual(report.plan, "plus")
      assert.strictEqual(report.account_id, "acct_local_0001")
      assert.strictEqual(report.issuer, issuer.url)
      assert.match(report.access_token_expires_at, /^\d{4}-\d\d-\d\dT/)

      const logout = yield* runCli(["logout"], { env: { CODEX_HOME: home } })
      assert.strictEqual(logout.code, 0)
      assert.strictEqual(logout.stdout.trim(), "Successfully logged out")
      assert.strictEqual((yield* issuer.stats).revoke, 1, "the refresh token was revoked at the issuer it came from")
      assert.isFalse(existsSync(authPath))

      const after = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.strictEqual(after.code, 1)
      assert.strictEqual(after.stdout.trim(), "Not logged in. To log in, run: devicecode login")
      const again = yield* runCli(["logout"], { env: { CODEX_HOME: home } })
      assert.strictEqual(again.stdout.trim(), "Not logged in")

      const printed = [login, status, json, logout, after].flatMap((r) => [r.stdout, r.stderr])
      assertNoSecrets(printed, secretsOf(authJson))
    })
  )

  it.scopedLive("a denied code ends with exit 1 and writes nothing", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli, userCode } = yield* startLogin(issuer, home)
      yield* submitUserCode(codexEndpoints(issuer.url).verification, userCode, "deny")
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "denied")
      assertNothingStored(home)
    })
  )

  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
    ["SIGHUP", 129]
  ] as const) {
    it.scopedLive(
      `${signal} (Ctrl-C, a kill or a closed terminal) while waiting: Login cancelled, exit ${code}, nothing written`,
      () =>
        Effect.gen(function* () {
          const issuer = yield* LocalIssuer.make({ interval: "1 second" })
          const home = yield* tempDir
          const { cli } = yield* startLogin(issuer, home)
          yield* cli.waitFor(/Waiting for the code/, "stderr")
          yield* cli.kill(signal)
          const result = yield* cli.exit
          assert.strictEqual(result.code, code, result.stderr)
          assert.include(result.stderr, "Login cancelled")
          assertNothingStored(home)
        })
    )
  }

  it.scopedLive("--verbose logs each exchange without a secret", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      const result = yield* runCli(["login", "--issuer", issuer.url, "--verbose"], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(
        result.stderr,
        /\[http\] POST http:\/\/127\.0\.0\.1:\d+\/api\/accounts\/deviceauth\/usercode -> 200 \(\d+ ms\)/
      )
      assert.match(result.stderr, /\[http\] POST http:\/\/127\.0\.0\.1:\d+\/oauth\/token -> 200/)
      assertNoSecrets([result.stdout, result.stderr], secretsOf(readFileSync(join(home, "auth.json"), "utf8")))
    })
  )

  it.scopedLive("a corrupt auth.json: status names it; login says it will replace it, then does", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      writeFileSync(authPath, '{"tokens": 5', { mode: 0o600 })
      const status = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.strictEqual(status.code, 1)
      assert.include(status.stderr, authPath)
      assert.include(status.stderr, "not valid JSON")
      const login = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stderr, "It will be replaced once you sign in")
      assert.strictEqual(JSON.parse(readFileSync(authPath, "utf8")).auth_mode, "chatgpt")
    })
  )

  it.scopedLive("a forced workspace that does not match: codex's message, exit 1, nothing written", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "200 millis" })
      const home = yield* tempDir
      writeFileSync(join(home, "config.toml"), 'forced_chatgpt_workspace_id = "acct_other"\n')
      const result = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "Login is restricted to workspace id(s) acct_other.")
      assertNothingStored(home, undefined, ["config.toml"])
    })
  )

  it.scopedLive("--with-api-key stores codex's API-key shape; status masks the key", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const key = "sk-proj-TESTKEY0123456789abcdef"
      const login = yield* runCli(["login", "--with-api-key"], { env: { CODEX_HOME: home }, input: `${key}\n` })
      assert.strictEqual(login.code, 0, login.stderr)
      // codex's words: its progress line on stderr, the outcome (our result) on stdout
      assert.strictEqual(login.stderr, "Reading API key from stdin...\n")
      assert.strictEqual(login.stdout, "API key saved. Authentication is checked when you send a request.\n")
      assert.strictEqual(
        readFileSync(join(home, "auth.json"), "utf8"),
        `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "${key}"\n}`
      )
      const status = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.include(
        status.stdout,
        "API key configured - sk-proj-***bcdef\nAuthentication is checked when you send a request."
      )
      const empty = yield* runCli(["login", "--with-api-key"], { env: { CODEX_HOME: home }, input: " \n" })
      assert.strictEqual(empty.code, 1)
      assert.include(empty.stderr, "Reading API key from stdin...\nError: No API key provided via stdin.")
      assertNoSecrets(
        [login, status, empty].flatMap((r) => [r.stdout, r.stderr]),
        [key]
      )
    })
  )

  it.scopedLive("reads the auth.json files the real codex 0.169 wrote", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), "utf8")
      writeFileSync(join(home, "auth.json"), fixture("codex-0.169-device-login.auth.json"))
      const chatgpt = yield* runCli(["status", "--json"], { env: { CODEX_HOME: home } })
      assert.strictEqual(chatgpt.code, 0, chatgpt.stderr)
      const report = JSON.parse(chatgpt.stdout)
      assert.strictEqual(report.method, "chatgpt")
      assert.strictEqual(report.email, "dev@example.com")
      assert.strictEqual(report.issuer, "http://127.0.0.1:39117")
      writeFileSync(join(home, "auth.json"), fixture("codex-0.169-api-key.auth.json"))
      const apiKey = yield* runCli(["status"], { env: { CODEX_HOME: home } })
      assert.strictEqual(apiKey.code, 0)
      assert.include(apiKey.stdout, "API key configured - sk-proj-***12345")
    })
  )

  it.scopedLive("usage errors exit 2; a missing CODEX_HOME exits 1 naming it", () =>
    Effect.gen(function* () {
      const unknown = yield* runCli(["login", "--bogus"])
      assert.strictEqual(unknown.code, 2)
      const badIssuer = yield* runCli(["login", "--issuer", "ftp://example.com"])
      assert.strictEqual(badIssuer.code, 2)
      assert.include(badIssuer.stderr + badIssuer.stdout, "--issuer must be an https URL")
      const plainHttp = yield* runCli(["login", "--issuer", "http://example.com"])
      assert.strictEqual(plainHttp.code, 2)
      assert.include(plainHttp.stderr, "must use https")
      const missing = yield* runCli(["status"], { env: { CODEX_HOME: "/nonexistent/devicecode-home" } })
      assert.strictEqual(missing.code, 1)
      assert.include(missing.stderr, "/nonexistent/devicecode-home")
    })
  )

  it.scopedLive("demo ends logged in", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const result = yield* runCli(["demo", "--codex-home", home])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.include(result.stdout, "Successfully logged in as dev@example.com (plus)")
      assert.include(result.stdout, "Logged in using ChatGPT")
      assert.isTrue(existsSync(join(home, "auth.json")))
    })
  )
})
