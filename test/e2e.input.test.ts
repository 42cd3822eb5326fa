import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { eventsOf, runCli, type CliResult } from "./support/cli.js"
import { assertNoSecrets, tempDir } from "./support/tmp.js"

const USERCODE_PATH = "/api/accounts/deviceauth/usercode"
const POLL_PATH = "/api/accounts/deviceauth/token"

/** Every byte a terminal would act on in what a run printed: C0 but newline, DEL, C1, bidi controls. */
const controlBytes = (result: CliResult) =>
  (result.stdout + result.stderr).match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g) ?? []

describe("devicecode end to end: hostile servers, hostile input, odd files", () => {
  it.scopedLive("a hostile user_code and error message print as visible escapes, never as control bytes", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const hostileCode = JSON.stringify({ device_auth_id: "deviceauth_x", user_code: "ABCD\x1b[2J", interval: "1" })
      const hostileError = JSON.stringify({ error: { code: "bad\u009b2J", message: "nope \x1b]0;pwn\x07\u202e" } })
      for (const extra of [[], ["--json"]]) {
        yield* issuer.setKnobs({
          faults: [
            { path: USERCODE_PATH, status: 200, body: hostileCode },
            { path: POLL_PATH, status: 400, body: hostileError }
          ]
        })
        const result = yield* runCli(["login", "--issuer", issuer.url, ...extra], { env: { CODEX_HOME: home } })
        assert.strictEqual(result.code, 1, result.stderr)
        assert.deepStrictEqual(controlBytes(result), [], JSON.stringify(result))
        assert.include(result.stdout + result.stderr, "nope", "the server's message is shown")
        if (extra.length === 0) assert.include(result.stdout, "     ABCD\\x1b[2J\n")
        else assert.include(result.stdout, '"user_code":"ABCD\\u001b[2J"')
      }
    })
  )

  it.scopedLive("a hostile email and plan: the success line and status escape them", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({
        interval: "1 second",
        autoApproveAfter: "100 millis",
        email: "dev@example.com\x1b]0;pwn\x07",
        plan: "plus\u009b2J"
      })
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      const login = yield* runCli(["login", "--issuer", issuer.url], { env })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stdout, "Successfully logged in as dev@example.com\\x1b]0;pwn\\x07 (plus\\u009b2J)")
      const results = [login]
      for (const args of [
        ["status"],
        ["status", "--all"],
        ["status", "--json"],
        ["login", "--issuer", issuer.url, "--json"]
      ]) {
        const result = yield* runCli(args, { env })
        assert.strictEqual(result.code, 0, `${args.join(" ")}: ${result.stderr}`)
        results.push(result)
      }
      assert.include(results[1]!.stdout, "  Email:         dev@example.com\\x1b]0;pwn\\x07")
      assert.strictEqual(JSON.parse(results[3]!.stdout).email, "dev@example.com\x1b]0;pwn\x07")
      for (const result of results) assert.deepStrictEqual(controlBytes(result), [], JSON.stringify(result))
    })
  )

  it.scopedLive("--issuer: plain http to another host, credentials, a query: exit 2 before any request", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      const http = yield* runCli(["login", "--issuer", "http://example.com"], { env })
      assert.strictEqual(http.code, 2)
      assert.include(http.stderr, "--issuer must use https")
      const port = new URL(issuer.url).port
      for (const bad of [
        `http://alice:hunter2@127.0.0.1:${port}`,
        `${issuer.url}/?tenant=1`,
        `${issuer.url}#x`,
        `http://localhost.example.com:${port}`
      ]) {
        const result = yield* runCli(["login", "--issuer", bad], { env })
        assert.strictEqual(result.code, 2, `${bad}: ${result.stderr}`)
        assert.notInclude(result.stdout + result.stderr, "hunter2")
      }
      const json = yield* runCli(["login", "--issuer", "http://example.com", "--json"], { env })
      assert.strictEqual(json.code, 2)
      const [event] = eventsOf(json.stdout)
      assert.strictEqual(event?.event, "error")
      if (event?.event === "error") assert.include(event.message, "https")
      // (http on a loopback host is allowed: every other test signs in at http://127.0.0.1)
      assert.deepStrictEqual(yield* issuer.requests, [], "no request reached the issuer")
    })
  )

  it.scopedLive("--with-api-key: the key is trimmed; white space or control characters inside are refused", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      const key = "sk-proj-TESTKEY0123456789abcdef"
      const ok = yield* runCli(["login", "--with-api-key"], { env, input: `  ${key}\r\n` })
      assert.strictEqual(ok.code, 0, ok.stderr)
      assert.strictEqual(JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).OPENAI_API_KEY, key)
      const refused = [
        ["sk-proj-TESTKEY 0123456789", "white space"],
        [`${key}\n${key}\n`, "white space"],
        ["sk-proj-TESTKEY\x1b[2J0123", "control characters"],
        ["\n\n", "No API key provided via stdin."]
      ] as const
      const results = [ok]
      for (const [input, says] of refused) {
        const result = yield* runCli(["login", "--with-api-key"], { env, input })
        assert.strictEqual(result.code, 1, input)
        assert.include(result.stderr, says)
        results.push(result)
      }
      assert.strictEqual(JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).OPENAI_API_KEY, key, "kept")
      assertNoSecrets(
        results.flatMap((r) => [r.stdout, r.stderr]),
        [key, "TESTKEY"]
      )
    })
  )

  it.scopedLive("odd auth.json files: status, token and logout agree that nobody is logged in", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      const authJson = join(home, "auth.json")
      for (const text of ['{"auth_mode":"apikey","OPENAI_API_KEY":null}', '{"OPENAI_API_KEY":""}', "{}"]) {
        writeFileSync(authJson, text)
        const status = yield* runCli(["status"], { env })
        assert.strictEqual(status.code, 1, text)
        assert.strictEqual(status.stdout.trim(), "Not logged in. To log in, run: devicecode login", text)
        const token = yield* runCli(["token"], { env })
        assert.strictEqual(token.code, 1, text)
        assert.strictEqual(token.stdout, "", `${text}: no empty token line`)
        assert.include(token.stderr, "Not logged in")
        const logout = yield* runCli(["logout"], { env })
        assert.strictEqual(logout.code, 0, text)
        assert.strictEqual(logout.stdout.trim(), "Not logged in", text)
      }
      assert.isFalse(existsSync(authJson))
      const nothing = yield* runCli(["logout", "--json"], { env })
      assert.strictEqual(nothing.code, 0)
      assert.deepStrictEqual(JSON.parse(nothing.stdout), {
        event: "logged_out",
        profile: "default",
        removed: false,
        revoked: false
      })
    })
  )

  it.scopedLive("a broken config.toml: status and logout --store only warn; token and login still fail", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const env = { CODEX_HOME: home }
      writeFileSync(join(home, "config.toml"), "cli_auth_credentials_store = [\x1b[2J\n")
      writeFileSync(join(home, "auth.json"), '{"OPENAI_API_KEY":"sk-proj-TESTKEY0123456789abcdef"}')
      const status = yield* runCli(["status", "--store", "file"], { env })
      assert.strictEqual(status.code, 0, status.stderr)
      assert.include(status.stdout, "API key configured - ")
      assert.match(status.stderr, /^Warning: .*config\.toml.*; going on with the defaults\.$/m)
      const plainStatus = yield* runCli(["status"], { env })
      assert.strictEqual(plainStatus.code, 1)
      assert.include(plainStatus.stderr, "config.toml")
      const token = yield* runCli(["token"], { env })
      assert.strictEqual(token.code, 1)
      assert.strictEqual(token.stdout, "")
      assert.include(token.stderr, "config.toml")
      const logout = yield* runCli(["logout", "--store", "file"], { env })
      assert.strictEqual(logout.code, 0, logout.stderr)
      assert.strictEqual(logout.stdout.trim(), "Successfully logged out")
      assert.include(logout.stderr, "Warning:")
      assert.isFalse(existsSync(join(home, "auth.json")))
      for (const result of [status, plainStatus, token, logout]) assert.deepStrictEqual(controlBytes(result), [])
    })
  )
})
