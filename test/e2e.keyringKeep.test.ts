import { assert, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { type ChildProcess, spawn, spawnSync } from "node:child_process"
import { createHash } from "node:crypto"
import { mkdirSync, readdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { runCli } from "./support/cli.js"
import { describeWithSecretService } from "./support/secretService.js"
import { assertNoSecrets, secretsOf, tempDir } from "./support/tmp.js"
import { eventually } from "./support/wait.js"

/**
 * Issue 20's rows "the keyring fails after a successful refresh" for `--store keyring` and `--store auto`, against a
 * real Secret Service: the built CLI as a child process, a LocalIssuer over loopback, and gnome-keyring on a D-Bus
 * session bus of the test's own (so that stopping it disturbs no other test). The fault: once the issuer has answered
 * the refresh (its refresh token is spent), and before the answer is sent, gnome-keyring is stopped; it is started
 * again, with the same keyring, after that command and one more ended. The next `token` must then exit 0 with a token
 * the issuer accepts, without sending a spent refresh token again, and leave the newest record in the keyring, which
 * codex reads.
 */

const PASSWORD = "devicecode-test"

const busConfig = (socket: string) => `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=${socket}</listen>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

const exited = (child: ChildProcess): Effect.Effect<void> =>
  Effect.async((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
  })

const stopped = (child: ChildProcess) =>
  Effect.suspend(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM")
    return exited(child)
  })

/**
 * gnome-keyring on a private session bus with no service files (nothing is started on demand), its keyring in a
 * temporary directory; `stop` ends the daemon and waits until the bus has no Secret Service, `start` runs it again
 * over the same keyring, unlocked, and waits until it answers. Both processes end with the scope.
 */
const privateSecretService = Effect.gen(function* () {
  const dir = yield* tempDir
  const socket = join(dir, "bus")
  writeFileSync(join(dir, "bus.conf"), busConfig(socket))
  mkdirSync(join(dir, "run"), { mode: 0o700 })
  const bus = yield* Effect.acquireRelease(
    Effect.sync(() =>
      spawn("dbus-daemon", [`--config-file=${join(dir, "bus.conf")}`, "--nofork"], { stdio: "ignore" })
    ),
    stopped
  )
  const env = { DBUS_SESSION_BUS_ADDRESS: `unix:path=${socket}` }
  const secretTool = (args: ReadonlyArray<string>, input = "") =>
    spawnSync("secret-tool", args, {
      env: { PATH: process.env.PATH ?? "", ...env },
      input,
      encoding: "utf8",
      timeout: 3000
    })
  const probe = ["service", "devicecode-test-probe", "username", "probe"]
  const answers = Effect.sync(
    () =>
      secretTool(["store", "--label=probe", ...probe], "probe").status === 0 &&
      secretTool(["lookup", ...probe]).stdout === "probe"
  )
  const absent = Effect.sync(() => /not provided|ServiceUnknown/i.test(secretTool(["lookup", ...probe]).stderr))

  let daemon: ChildProcess | undefined
  const start = Effect.gen(function* () {
    const child = spawn("gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"], {
      env: {
        PATH: process.env.PATH ?? "",
        HOME: dir,
        XDG_RUNTIME_DIR: join(dir, "run"),
        XDG_DATA_HOME: join(dir, "data"),
        ...env
      },
      stdio: ["pipe", "ignore", "ignore"]
    })
    daemon = child
    // --unlock reads the login keyring's password from stdin (it creates the keyring with it the first time)
    child.stdin?.end(PASSWORD)
    yield* eventually("gnome-keyring to answer on the private bus", answers)
  })
  const stop = Effect.gen(function* () {
    if (daemon !== undefined) yield* stopped(daemon)
    yield* eventually("the private bus to have no Secret Service", absent)
  })
  yield* Effect.addFinalizer(() => (daemon === undefined ? Effect.void : stopped(daemon)))
  yield* eventually(
    "the private bus to listen",
    Effect.sync(() => bus.exitCode === null && readdirSync(dir).includes("bus"))
  )
  yield* start
  return {
    env,
    start,
    stop,
    /** codex's entry for `account`, read with secret-tool. */
    lookup: (account: string) =>
      Effect.sync(() => {
        const result = secretTool(["lookup", "service", "Codex Auth", "username", account])
        return result.status === 0 ? Option.some(result.stdout) : Option.none<string>()
      })
  }
})

/** codex's keyring account for a CODEX_HOME, computed independently of the code under test. */
const accountOf = (home: string): string =>
  `cli|${createHash("sha256").update(realpathSync(home)).digest("hex").slice(0, 16)}`

const keptFiles = (home: string) => readdirSync(home).filter((name) => name.startsWith(".auth.json.tmp-"))
const authFiles = (home: string) =>
  readdirSync(home).filter((name) => name.startsWith("auth.json") && !name.endsWith(".lock"))

/**
 * A LocalIssuer that approves every code at once and runs `fault.next` (once) when it has answered a refresh, before
 * the answer is sent.
 */
const issuerWithFault = Effect.gen(function* () {
  const fault: { next?: Effect.Effect<void> } = {}
  const issuer = yield* LocalIssuer.make({
    interval: "1 second",
    accessTokenTtl: 0,
    autoApproveAfter: "100 millis",
    onRequest: (request) => {
      const next = fault.next
      if (request.grantType !== "refresh_token" || request.status !== 200 || next === undefined) return Effect.void
      delete fault.next
      return next
    }
  })
  return { issuer, fault }
})

const keyringFailsAfterRefresh = (store: "keyring" | "auto") =>
  Effect.gen(function* () {
    const { fault, issuer } = yield* issuerWithFault
    const secretService = yield* privateSecretService
    const home = yield* tempDir
    const env = { env: { CODEX_HOME: home, ...secretService.env } }
    const account = accountOf(home)
    const entry = Effect.map(secretService.lookup(account), (found) => JSON.parse(Option.getOrThrow(found)))

    const login = yield* runCli(["login", "--store", store, "--issuer", issuer.url], env)
    assert.strictEqual(login.code, 0, login.stderr)
    const spent = (yield* entry).tokens.refresh_token
    // the stored access token was born expired; the ones refreshes bring live an hour
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })

    fault.next = secretService.stop
    const failed = yield* runCli(["token", "--store", store], env)
    assert.isUndefined(fault.next, "the fault ran")
    assert.strictEqual((yield* issuer.stats).refresh, 1)
    assert.deepStrictEqual(yield* issuer.refreshTokenState(spent), Option.some("used" as const))
    assert.strictEqual(failed.code, 1, failed.stderr)
    assert.strictEqual(failed.stdout, "")
    const kept = keptFiles(home)
    assert.strictEqual(kept.length, 1, failed.stderr)
    assert.include(failed.stderr, "OS keyring cannot be used")
    assert.include(failed.stderr, `The new sign-in is kept in ${join(home, kept[0]!)}`)
    assert.notMatch(failed.stderr, /^\s+at .+:\d+:\d+\)?$/m, "a stack trace")
    const keptText = readFileSync(join(home, kept[0]!), "utf8")
    const keptAccess = JSON.parse(keptText).tokens.access_token

    // with the keyring still gone, the kept record is served all the same
    const whileDown = yield* runCli(["token", "--store", store], env)
    assert.strictEqual(whileDown.code, 0, whileDown.stderr)
    assert.strictEqual(whileDown.stdout, `${keptAccess}\n`)
    if (store === "keyring") {
      assert.deepStrictEqual(keptFiles(home), kept, "left for a command that finds the keyring")
    } else {
      assert.include(whileDown.stderr, `Using file ${join(home, "auth.json")} instead`)
      assert.deepStrictEqual(authFiles(home), ["auth.json"], "the file store adopted it as auth.json")
    }

    yield* secretService.start
    assert.strictEqual((yield* entry).tokens.refresh_token, spent, "the keyring came back holding the spent record")
    const next = yield* runCli(["token", "--store", store], env)
    assert.strictEqual(next.code, 0, next.stderr)
    assert.match(next.stdout, /^\S+\n$/)
    const served = next.stdout.trim()
    assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(served)), "the issuer accepts the token")
    const stats = yield* issuer.stats
    assert.strictEqual(stats.refreshTokenReused, 0, "a spent refresh token was sent again")
    assert.strictEqual(stats.refresh, 1, "the kept answer's token is served, not refreshed again")

    // codex reads the keyring first: it holds the newest record, whose refresh token is live
    const record = yield* entry
    assert.strictEqual(record.tokens.access_token, served)
    assert.strictEqual(served, keptAccess)
    assert.deepStrictEqual(yield* issuer.refreshTokenState(record.tokens.refresh_token), Option.some("active" as const))
    assert.deepStrictEqual(authFiles(home), [], "no auth file beside the entry")
    assert.deepStrictEqual(keptFiles(home), [])
    assertNoSecrets([login.stdout, login.stderr, failed.stderr, whileDown.stderr, next.stderr], secretsOf(keptText))
  })

describeWithSecretService("the keyring fails after a successful refresh (real gnome-keyring)", () => {
  it.scopedLive(
    "--store keyring: the answer is kept and served while the keyring is gone; once it is back, moved into it",
    () => keyringFailsAfterRefresh("keyring")
  )

  it.scopedLive(
    "--store auto: the answer is kept and served from auth.json while the keyring is gone; once it is back, moved into it",
    () => keyringFailsAfterRefresh("auto")
  )
})
