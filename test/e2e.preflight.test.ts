import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { runCli } from "./support/cli.js"
import { tempDir } from "./support/tmp.js"

// The CLI refuses a login it could not finish before it asks for a code, and keeps an unreadable auth.json aside.

const unreadable = `{"tokens": {"access_token": "not-a-secret"`

const keptAside = (home: string) => readdirSync(home).filter((name) => name.startsWith("auth.json.unreadable-"))

describe("devicecode login: checks before a code is asked for (child processes, real HTTP)", () => {
  it.scopedLive(
    'forced_login_method = "api": the ChatGPT login is refused with codex\'s message, no request made',
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "0 millis" })
        const home = yield* tempDir
        writeFileSync(join(home, "config.toml"), 'forced_login_method = "api"\n')
        const result = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
        assert.strictEqual(result.code, 1)
        assert.include(result.stderr, "ChatGPT login is disabled. Use API key login instead.")
        assert.strictEqual((yield* issuer.stats).usercode, 0)
        assert.deepStrictEqual(readdirSync(home), ["config.toml"])
      })
  )

  it.scopedLive(
    'forced_login_method = "chatgpt": --with-api-key is refused with codex\'s message, nothing stored',
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        writeFileSync(join(home, "config.toml"), 'forced_login_method = "chatgpt"\n')
        const result = yield* runCli(["login", "--with-api-key"], {
          env: { CODEX_HOME: home },
          input: "sk-proj-TESTKEY0123456789abcdef\n"
        })
        assert.strictEqual(result.code, 1)
        assert.include(result.stderr, "API key login is disabled. Use ChatGPT login instead.")
        assert.deepStrictEqual(readdirSync(home), ["config.toml"])
      })
  )

  it.scopedLive("an invalid forced_login_method is a config error naming the values", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "config.toml"), 'forced_login_method = "sso"\n')
      const result = yield* runCli(["login", "--issuer", "http://127.0.0.1:9"], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, 'forced_login_method must be "chatgpt" or "api" (got "sso")')
    })
  )

  it.scopedLive(
    "a store that cannot be written (its lock file cannot be opened) fails before a code is asked for",
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "0 millis" })
        const home = yield* tempDir
        mkdirSync(join(home, "auth.lock"))
        const result = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
        assert.strictEqual(result.code, 1, result.stderr)
        assert.include(result.stderr, `cannot access ${join(home, "auth.lock")}`)
        assert.strictEqual((yield* issuer.stats).usercode, 0, "no code was asked for")
        assert.deepStrictEqual(readdirSync(home), ["auth.lock"])
      })
  )
})

describe("an unreadable auth.json is kept aside, never deleted (child processes)", () => {
  it.scopedLive("login moves it to auth.json.unreadable-<time> (0600) once the new sign-in is saved, and says so", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "0 millis" })
      const home = yield* tempDir
      writeFileSync(join(home, "auth.json"), unreadable, { mode: 0o600 })
      const login = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(login.code, 0, login.stderr)
      const [kept] = keptAside(home)
      assert.isDefined(kept)
      assert.include(login.stderr, `the unreadable sign-in was moved to ${join(home, kept!)}`)
      assert.strictEqual(readFileSync(join(home, kept!), "utf8"), unreadable)
      assert.strictEqual(statSync(join(home, kept!)).mode & 0o777, 0o600)
      assert.strictEqual(JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).auth_mode, "chatgpt")
    })
  )

  it.scopedLive("logout and --with-api-key move it aside and say where", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "auth.json"), unreadable, { mode: 0o600 })
      const logout = yield* runCli(["logout"], { env: { CODEX_HOME: home } })
      assert.strictEqual(logout.code, 0, logout.stderr)
      assert.strictEqual(keptAside(home).length, 1)
      assert.include(logout.stderr, `moved it to ${join(home, keptAside(home)[0]!)} without revoking`)
      assert.isFalse(existsSync(join(home, "auth.json")))

      writeFileSync(join(home, "auth.json"), "{", { mode: 0o600 })
      const apiKey = yield* runCli(["login", "--with-api-key"], {
        env: { CODEX_HOME: home },
        input: "sk-proj-TESTKEY0123456789abcdef\n"
      })
      assert.strictEqual(apiKey.code, 0, apiKey.stderr)
      assert.strictEqual(keptAside(home).length, 2)
      assert.include(apiKey.stderr, "the unreadable sign-in was moved to")
      assert.strictEqual(JSON.parse(readFileSync(join(home, "auth.json"), "utf8")).auth_mode, "apikey")
    })
  )
})
