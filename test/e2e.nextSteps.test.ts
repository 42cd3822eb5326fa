import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { expiredSignIn, runCli, startCli, spendStoredRefreshToken } from "./support/cli.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { describeWithSecretService, secretTool } from "./support/secretService.js"
import { tempDir } from "./support/tmp.js"

const LOGIN = "Not logged in. To log in, run: devicecode login"

describe("devicecode: not logged in says what to run next", () => {
  it.scopedLive("status and token name the login, with the profile asked about", () =>
    Effect.gen(function* () {
      const env = { env: { CODEX_HOME: yield* tempDir } }
      const status = yield* runCli(["status"], env)
      assert.strictEqual(status.code, 1)
      assert.strictEqual(status.stdout, `${LOGIN}\n`)
      const named = yield* runCli(["status", "--profile", "work"], env)
      assert.strictEqual(named.code, 1)
      assert.strictEqual(named.stdout, `${LOGIN} --profile work\n`)
      const token = yield* runCli(["token"], env)
      assert.strictEqual(token.code, 1)
      assert.strictEqual(token.stdout, "")
      assert.strictEqual(token.stderr, `Error: ${LOGIN}\n`)
      const namedToken = yield* runCli(["token", "--profile", "work"], env)
      assert.strictEqual(namedToken.stderr, `Error: ${LOGIN} --profile work\n`)
      // --json keeps its error event as it was
      const json = yield* runCli(["token", "--json"], env)
      assert.deepStrictEqual(JSON.parse(json.stdout), { event: "error", code: "NotLoggedIn", message: "Not logged in" })
    })
  )

  it.scopedLive("token with only named profiles stored names them, as status does", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "auth.work.json"), freshChatgptAuthJson("rt_work"))
      const token = yield* runCli(["token"], { env: { CODEX_HOME: home } })
      assert.strictEqual(token.code, 1)
      assert.strictEqual(token.stdout, "")
      assert.strictEqual(
        token.stderr,
        "Error: Not logged in: there is no default sign-in. Other profiles: work\n" +
          "  See them all with devicecode status --all, or pick one with --profile NAME.\n"
      )
    })
  )

  it.scopedLive("status --all keeps an unreadable profile's error out of the table, below it", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "auth.json"), "not json")
      writeFileSync(join(home, "auth.work.json"), freshChatgptAuthJson("rt_work"))
      const all = yield* runCli(["status", "--all"], { env: { CODEX_HOME: home } })
      assert.strictEqual(all.code, 0, all.stderr)
      const lines = all.stdout.trimEnd().split("\n")
      assert.match(lines[0]!, /^PROFILE {2}STATUS {6}ACCOUNT {10}ISSUER {11}ACCESS TOKEN$/)
      assert.strictEqual(lines[1], "default  unreadable  (see below)")
      assert.match(lines[2]!, /^work {5}chatgpt {5}dev@example\.com/)
      assert.isTrue(
        lines.slice(0, 3).every((line) => line.length < 120),
        "no row as wide as the message"
      )
      assert.strictEqual(lines[3], "")
      assert.match(lines[4]!, /^Profile default: .*auth\.json is not a valid auth file \(not valid JSON\)/)
      assert.strictEqual(lines.length, 5)
    })
  )

  it.scopedLive(
    "logout --profile typo leaves nothing behind; the default profile's locks are taken as codex's are",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const typo = yield* runCli(["logout", "--profile", "typo"], { env: { CODEX_HOME: home } })
        assert.strictEqual(typo.code, 0, typo.stderr)
        assert.strictEqual(typo.stdout, "Not logged in\n")
        assert.deepStrictEqual(readdirSync(home), [])
        const plain = yield* runCli(["logout"], { env: { CODEX_HOME: home } })
        assert.strictEqual(plain.code, 0, plain.stderr)
        assert.isTrue(existsSync(join(home, "auth.lock")))
        assert.isTrue(existsSync(join(home, "auth.json.lock")))
      })
  )
})

describe("devicecode token after a refresh token spent elsewhere", () => {
  it.scopedLive(
    "says at once what it waits for and how long, then fails at the end of the wait",
    () =>
      Effect.gen(function* () {
        const signedIn = yield* expiredSignIn
        const { home, issuer } = signedIn
        const env = { env: signedIn.env }
        yield* spendStoredRefreshToken(issuer, home)
        const started = Date.now()
        const token = yield* startCli(["token"], env)
        yield* token.waitFor(/The refresh token was already used; waiting up to 10 seconds for the program/, "stderr")
        assert.isBelow(Date.now() - started, 5_000, "said long before the wait ends")
        const result = yield* token.exit
        assert.strictEqual(result.code, 1)
        assert.strictEqual(result.stdout, "")
        const lines = result.stderr.trimEnd().split("\n")
        assert.strictEqual(
          lines[0],
          "The refresh token was already used; waiting up to 10 seconds for the program that used it to save its new sign-in…"
        )
        assert.match(
          lines[1]!,
          /^Error: Your access token could not be refreshed because your refresh token was already used/
        )
      }),
    30_000
  )
})

/** codex's keyring account for a CODEX_HOME, computed independently of the code under test. */
const accountOf = (home: string, profile?: string): string =>
  `cli|${createHash("sha256").update(realpathSync(home)).digest("hex").slice(0, 16)}${profile ? `|${profile}` : ""}`

/** The child's environment: CODEX_HOME and this session's D-Bus (runCli passes nothing else through). */
const withBus = (home: string) => ({
  env: {
    CODEX_HOME: home,
    ...(process.env.DBUS_SESSION_BUS_ADDRESS ? { DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS } : {})
  }
})

describeWithSecretService("devicecode: a sign-in in the other kind of store is named", () => {
  it.scopedLive("login --store keyring, then a plain status and token point at the keyring", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      yield* Effect.addFinalizer(() => secretTool.clear(accountOf(home)))
      const login = yield* runCli(["login", "--with-api-key", "--store", "keyring"], {
        ...withBus(home),
        input: "sk-test-nextsteps-0123456789\n"
      })
      assert.strictEqual(login.code, 0, login.stderr)
      const status = yield* runCli(["status"], withBus(home))
      assert.strictEqual(status.code, 1)
      assert.strictEqual(
        status.stdout,
        "Not logged in. A sign-in is stored in the keyring: run devicecode status --store keyring\n"
      )
      const token = yield* runCli(["token"], withBus(home))
      assert.strictEqual(token.code, 1)
      assert.strictEqual(
        token.stderr,
        "Error: Not logged in. A sign-in is stored in the keyring: run devicecode token --store keyring\n"
      )
      const there = yield* runCli(["status", "--store", "keyring"], withBus(home))
      assert.strictEqual(there.code, 0, there.stderr)
    })
  )

  it.scopedLive("a file sign-in of a profile, looked for in the keyring: the file is named", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      yield* Effect.addFinalizer(() => secretTool.clear(accountOf(home, "work")))
      writeFileSync(join(home, "auth.work.json"), freshChatgptAuthJson("rt_work"))
      const status = yield* runCli(["status", "--store", "keyring", "--profile", "work"], withBus(home))
      assert.strictEqual(status.code, 1)
      assert.strictEqual(
        status.stdout,
        `Not logged in. A sign-in is stored in ${join(realpathSync(home), "auth.work.json")}: run devicecode status --store file --profile work\n`
      )
    })
  )
})
