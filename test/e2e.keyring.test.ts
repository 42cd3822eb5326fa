import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type CliResult, runCli } from "./support/cli.js"
import { describeWithSecretService, secretTool } from "./support/secretService.js"
import { assertNoSecrets, secretsOf, tempDir } from "./support/tmp.js"

/** codex's keyring account for a CODEX_HOME, computed independently of the code under test. */
const accountOf = (home: string): string =>
  `cli|${createHash("sha256").update(realpathSync(home)).digest("hex").slice(0, 16)}`

const keyringLocation = (home: string) => `Stored in:     keyring (service "Codex Auth", account "${accountOf(home)}")`

/** A fresh CODEX_HOME whose keyring entry is cleared when the scope closes. */
const codexHome = Effect.gen(function* () {
  const home = yield* tempDir
  yield* Effect.addFinalizer(() => secretTool.clear(accountOf(home)))
  return home
})

const issuer = LocalIssuer.make({ interval: "1 second", autoApproveAfter: "100 millis" })

/** The child's environment: CODEX_HOME and this session's D-Bus (runCli passes nothing else through). */
const withBus = (home: string): Record<string, string> => ({
  CODEX_HOME: home,
  ...(process.env.DBUS_SESSION_BUS_ADDRESS ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS } : {})
})

/** A child environment in which no Secret Service can be reached. */
const withoutBus = (home: string): Record<string, string> => ({
  CODEX_HOME: home,
  DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/bus"
})

const warnings = (result: CliResult) => result.stderr.split("\n").filter((line) => line.startsWith("Warning:"))

/** Checks that the keyring holds codex's compact record of a device login at `issuerUrl`, and returns its text. */
const assertCodexRecordInKeyring = (home: string, issuerUrl: string) =>
  Effect.gen(function* () {
    const stored = yield* secretTool.lookup(accountOf(home))
    assert.isTrue(Option.isSome(stored), "secret-tool finds the entry")
    const text = Option.getOrThrow(stored)
    assert.isTrue(text === JSON.stringify(JSON.parse(text)), "the secret is compact JSON")
    const record = JSON.parse(text)
    assert.deepStrictEqual(Object.keys(record), ["auth_mode", "OPENAI_API_KEY", "tokens", "last_refresh"])
    assert.strictEqual(record.auth_mode, "chatgpt")
    assert.isNull(record.OPENAI_API_KEY)
    assert.deepStrictEqual(Object.keys(record.tokens), [
      "id_token",
      "access_token",
      "refresh_token",
      "oauth_provenance",
      "login_owner_id",
      "account_id"
    ])
    assert.strictEqual(record.tokens.oauth_provenance.issuer, issuerUrl)
    assert.strictEqual(record.tokens.account_id, "acct_local_0001")
    return text
  })

/** login → status → logout with `storeArgs`, checking that the sign-in lives in the keyring only. */
const keyringRoundTrip = (storeArgs: ReadonlyArray<string>, setup: (home: string) => void = () => {}) =>
  Effect.gen(function* () {
    const local = yield* issuer
    const home = yield* codexHome
    setup(home)
    const env = { env: withBus(home) }
    const login = yield* runCli(["login", ...storeArgs, "--issuer", local.url], env)
    assert.strictEqual(login.code, 0, login.stderr)
    assert.include(login.stdout, "Successfully logged in as dev@example.com")
    assert.deepStrictEqual(warnings(login), [])
    assert.isFalse(existsSync(join(home, "auth.json")), "nothing is written to auth.json")
    const secret = yield* assertCodexRecordInKeyring(home, local.url)

    const status = yield* runCli(["status", ...storeArgs], env)
    assert.strictEqual(status.code, 0, status.stderr)
    assert.include(status.stdout, "Logged in using ChatGPT")
    assert.include(status.stdout, keyringLocation(home))
    assert.deepStrictEqual(warnings(status), [])

    const logout = yield* runCli(["logout", ...storeArgs], env)
    assert.strictEqual(logout.code, 0, logout.stderr)
    assert.strictEqual(logout.stdout.trim(), "Successfully logged out")
    assert.isTrue(Option.isNone(yield* secretTool.lookup(accountOf(home))), "the keyring entry is gone")

    assertNoSecrets(
      [login, status, logout].flatMap((r) => [r.stdout, r.stderr]),
      secretsOf(secret)
    )
    return home
  })

describeWithSecretService("devicecode CLI with the OS keyring (real Secret Service)", () => {
  it.scopedLive("login, status, logout with --store keyring", () => keyringRoundTrip(["--store", "keyring"]))

  it.scopedLive("login, status, logout with --store auto use the keyring without a warning", () =>
    keyringRoundTrip(["--store", "auto"])
  )

  it.scopedLive('cli_auth_credentials_store = "keyring" acts as --store keyring', () =>
    keyringRoundTrip([], (home) =>
      writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "keyring"\n')
    ).pipe(Effect.asVoid)
  )

  it.scopedLive('--store file wins over cli_auth_credentials_store = "keyring"', () =>
    Effect.gen(function* () {
      const local = yield* issuer
      const home = yield* codexHome
      writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "keyring"\n')
      const env = { env: withBus(home) }
      const login = yield* runCli(["login", "--store", "file", "--issuer", local.url], env)
      assert.strictEqual(login.code, 0, login.stderr)
      assert.isTrue(existsSync(join(home, "auth.json")))
      assert.isTrue(Option.isNone(yield* secretTool.lookup(accountOf(home))), "the keyring is not touched")

      const inKeyring = yield* runCli(["status"], env)
      assert.strictEqual(inKeyring.code, 1)
      assert.strictEqual(
        inKeyring.stdout.trim(),
        `Not logged in. A sign-in is stored in ${join(home, "auth.json")}: run devicecode status --store file`
      )
      const inFile = yield* runCli(["status", "--store", "file"], env)
      assert.strictEqual(inFile.code, 0, inFile.stderr)
      assert.include(inFile.stdout, `Stored in:     file ${join(home, "auth.json")}`)
    })
  )
})

describe("devicecode CLI store selection without a Secret Service", () => {
  it.scopedLive("--store keyring fails with exit 1 and says to use --store file", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const status = yield* runCli(["status", "--store", "keyring"], { env: withoutBus(home) })
      assert.strictEqual(status.code, 1, status.stdout)
      assert.include(status.stderr, "OS keyring cannot be used")
      assert.include(status.stderr, "--store file")
    })
  )

  it.scopedLive("--store auto falls back to auth.json with one warning", () =>
    Effect.gen(function* () {
      const local = yield* issuer
      const home = yield* tempDir
      const authPath = join(home, "auth.json")
      const login = yield* runCli(["login", "--store", "auto", "--issuer", local.url], { env: withoutBus(home) })
      assert.strictEqual(login.code, 0, login.stderr)
      const [warning, ...more] = warnings(login)
      assert.deepStrictEqual(more, [])
      assert.include(warning, "OS keyring cannot be used")
      assert.include(warning, authPath)
      assert.isTrue(existsSync(authPath))

      const status = yield* runCli(["status", "--store", "auto"], { env: withoutBus(home) })
      assert.strictEqual(status.code, 0, status.stderr)
      assert.include(status.stdout, "Logged in using ChatGPT")
      assert.include(status.stdout, `Stored in:     file ${authPath}`)
      assertNoSecrets(
        [login, status].flatMap((r) => [r.stdout, r.stderr]),
        secretsOf(readFileSync(authPath, "utf8"))
      )
    })
  )

  it.scopedLive("an unknown --store is a usage error (exit 2)", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const result = yield* runCli(["status", "--store", "bogus"], { env: withoutBus(home) })
      assert.strictEqual(result.code, 2, result.stderr)
    })
  )

  it.scopedLive("an unknown cli_auth_credentials_store exits 1 listing the valid stores", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "bogus"\n')
      const result = yield* runCli(["status"], { env: withoutBus(home) })
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "file, keyring, auto, ephemeral")
    })
  )

  it.scopedLive("--store ephemeral logs in without writing to CODEX_HOME, and revokes what it could not keep", () =>
    Effect.gen(function* () {
      const local = yield* issuer
      const home = yield* tempDir
      const login = yield* runCli(["login", "--store", "ephemeral", "--issuer", local.url], { env: withoutBus(home) })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stdout, "Successfully logged in as dev@example.com")
      assert.include(
        login.stderr,
        "--store ephemeral keeps nothing: the sign-in ends with this command, and its tokens were revoked at the issuer."
      )
      assert.strictEqual((yield* local.stats).revoke, 1, "the tokens no one holds are revoked")
      assert.deepStrictEqual(readdirSync(home), [])
    })
  )
})
