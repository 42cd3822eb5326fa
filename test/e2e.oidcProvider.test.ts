import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import { startCli, runCli } from "./support/cli.js"
import { startOidcProvider } from "./support/oidcProvider.js"
import { assertNoSecrets, secretsOf, tempDir } from "./support/tmp.js"

/** The user code the CLI printed under "Enter this one-time code". */
const USER_CODE = /one-time code[^\n]*\n\s+(\S+)/

const startLogin = (
  issuer: string,
  clientId: string,
  home: string,
  profile: ReadonlyArray<string> = ["--profile", "p"]
) =>
  Effect.gen(function* () {
    const cli = yield* startCli(
      ["login", "--dialect", "rfc8628", "--issuer", issuer, "--client-id", clientId, ...profile],
      { env: { CODEX_HOME: home } }
    )
    const [, userCode] = yield* cli.waitFor(USER_CODE)
    return { cli, userCode: userCode! }
  })

describe("RFC 8628 end to end against oidc-provider (a certified OpenID provider) on loopback", () => {
  it.scopedLive("approved: tokens stored in the profile, status shows the user, the default auth.json untouched", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const codexAuth = join(home, "auth.json")
      writeFileSync(
        codexAuth,
        `{\n  "auth_mode": "apikey",\n  "OPENAI_API_KEY": "sk-default-profile-key-0123456789"\n}`
      )
      const before = statSync(codexAuth).mtimeMs

      const { cli, userCode } = yield* startLogin(op.issuer, op.clientId, home)
      yield* op.approve(userCode)
      const login = yield* cli.exit
      assert.strictEqual(login.code, 0, login.stderr)
      assert.include(login.stdout, `${op.issuer}/device`)
      assert.include(login.stdout, `Successfully logged in to ${op.issuer} as ${op.user.email} (profile p)`)

      const profileJson = readFileSync(join(home, "auth.p.json"), "utf8")
      assert.strictEqual(statSync(join(home, "auth.p.json")).mode & 0o777, 0o600)
      const record = JSON.parse(profileJson)
      assert.strictEqual(record.auth_mode, "oidc")
      assert.deepStrictEqual(record.devicecode, {
        dialect: "rfc8628",
        issuer: op.issuer,
        client_id: op.clientId,
        scope: OidcIssuer.DEFAULT_SCOPE
      })
      assert.isString(record.tokens.refresh_token)
      assert.match(record.tokens.expires_at, /^\d{4}-/)
      assert.strictEqual(statSync(codexAuth).mtimeMs, before, "the default profile's auth.json is untouched")
      assert.include(readFileSync(codexAuth, "utf8"), "sk-default-profile-key-0123456789")

      const status = yield* runCli(["status", "--profile", "p", "--json"], { env: { CODEX_HOME: home } })
      assert.strictEqual(status.code, 0, status.stderr)
      const report = JSON.parse(status.stdout)
      assert.strictEqual(report.email, op.user.email)
      assert.strictEqual(report.name, op.user.name)
      assert.strictEqual(report.method, "oidc")
      assert.strictEqual(report.issuer, op.issuer)

      const all = yield* runCli(["status", "--all"], { env: { CODEX_HOME: home } })
      assert.strictEqual(all.code, 0)
      const lines = all.stdout.trim().split("\n")
      assert.match(lines[1]!, /^default\s+apikey\s+sk-defau\*\*\*56789/)
      assert.match(lines[2]!, new RegExp(`^p\\s+oidc\\s+${op.user.email.replace(".", "\\.")}\\s+${op.issuer}`))
      const allJson = JSON.parse((yield* runCli(["status", "--all", "--json"], { env: { CODEX_HOME: home } })).stdout)
      assert.deepStrictEqual(
        allJson.map((r: { profile: string }) => r.profile),
        ["default", "p"]
      )

      assertNoSecrets(
        [login, status, all].flatMap((r) => [r.stdout, r.stderr]),
        secretsOf(profileJson)
      )
    })
  )

  it.scopedLive("refresh and revocation work through the discovered endpoints", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const { cli, userCode } = yield* startLogin(op.issuer, op.clientId, home)
      yield* op.approve(userCode)
      assert.strictEqual((yield* cli.exit).code, 0)
      const stored = JSON.parse(readFileSync(join(home, "auth.p.json"), "utf8"))

      const issuer = yield* OidcIssuer.makeClient({ issuer: op.issuer, clientId: op.clientId }).pipe(
        Effect.provide(NodeHttpClient.layer)
      )
      const refreshed = yield* issuer.refresh(Redacted.make(stored.tokens.refresh_token))
      assert.isTrue(Option.isSome(refreshed.accessToken))
      const rotated = Option.getOrThrow(refreshed.refreshToken)
      assert.notStrictEqual(
        Redacted.value(rotated),
        stored.tokens.refresh_token,
        "oidc-provider rotates refresh tokens"
      )

      yield* issuer.revoke(rotated)
      const afterRevoke = yield* Effect.either(issuer.refresh(rotated))
      assert.isTrue(Either.isLeft(afterRevoke))
      if (Either.isLeft(afterRevoke)) assert.strictEqual(afterRevoke.left.code, "invalid_grant")
      assert.isTrue((yield* op.requests).some((r) => r.method === "POST" && r.path === "/token/revocation"))
    })
  )

  it.scopedLive("logout --profile revokes at the provider and deletes only that profile", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const { cli, userCode } = yield* startLogin(op.issuer, op.clientId, home, [])
      yield* op.approve(userCode)
      assert.strictEqual((yield* cli.exit).code, 0)
      // Without --profile an rfc8628 login is stored under the issuer's host.
      const profile = new URL(op.issuer).host.replace(":", "-")
      assert.isTrue(existsSync(join(home, `auth.${profile}.json`)))
      const logout = yield* runCli(["logout", "--profile", profile], { env: { CODEX_HOME: home } })
      assert.strictEqual(logout.code, 0, logout.stderr)
      assert.strictEqual(logout.stdout.trim(), "Successfully logged out")
      assert.isFalse(existsSync(join(home, `auth.${profile}.json`)))
      const revocations = (yield* op.requests).filter((r) => r.path === "/token/revocation").length
      assert.strictEqual(revocations, 1)
    })
  )

  it.scopedLive("denied: its own message, exit 1, nothing written", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const { cli, userCode } = yield* startLogin(op.issuer, op.clientId, home)
      yield* op.deny(userCode)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "the sign-in was denied")
      assert.isFalse(existsSync(join(home, "auth.p.json")))
    })
  )

  it.scopedLive("expired: the code's expires_in ends the wait with its own message", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider({ deviceCodeTtlSeconds: 2 })
      const home = yield* tempDir
      const { cli } = yield* startLogin(op.issuer, op.clientId, home)
      const result = yield* cli.exit.pipe(Effect.timeout("20 seconds"))
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, "the device code expired before it was approved")
      assert.isFalse(existsSync(join(home, "auth.p.json")))
    })
  )

  it.scopedLive("an unknown client: its own message, exit 1", () =>
    Effect.gen(function* () {
      const op = yield* startOidcProvider()
      const home = yield* tempDir
      const result = yield* runCli(
        ["login", "--dialect", "rfc8628", "--issuer", op.issuer, "--client-id", "nobody", "--profile", "p"],
        { env: { CODEX_HOME: home } }
      )
      assert.strictEqual(result.code, 1)
      assert.include(result.stderr, 'does not accept client id "nobody"')
    })
  )
})
