import { HttpClient, Terminal } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Chunk, ConfigProvider, Effect, Fiber, Layer, Option, Redacted, TestClock, TestServices } from "effect"
import { existsSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { cli } from "../src/cli/Cli.js"
import { CliLayers } from "../src/cli/CliLayers.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import { parseStoredAuth } from "../src/domain/StoredAuth.js"
import * as DeviceCodeAuth from "../src/layers/DeviceCodeAuth.js"
import { chatgptClaims, unsignedJwt } from "../src/testing/ScriptedIssuer.js"
import { fakeClient, json, type Reply } from "./support/fakeHttp.js"
import * as TestTerminal from "./support/terminal.js"
import { tempDir } from "./support/tmp.js"

const issuer = "https://issuer.test"

/** A Codex issuer over a fake HttpClient: the code, `pending` polls, then an approval and tokens. */
const codexAnswers = (pendingPolls: number) => {
  let polls = 0
  return (url: string): Reply => {
    if (url.endsWith("/usercode")) {
      return json(200, { device_auth_id: "deviceauth_1", user_code: "ABCD-EFGHJ", interval: "5" })
    }
    if (url.endsWith("/deviceauth/token")) {
      return polls++ < pendingPolls
        ? json(403, { error: { code: "deviceauth_authorization_pending" } })
        : json(200, { authorization_code: "ac_1", code_challenge: s256Challenge("cv_1"), code_verifier: "cv_1" })
    }
    return json(200, {
      id_token: unsignedJwt(chatgptClaims()),
      access_token: unsignedJwt({ exp: 4_102_444_800 }),
      refresh_token: "rt_inprocess"
    })
  }
}

/** A terminal for @effect/cli that is no terminal: nothing here prompts. */
const noTerminal = Layer.succeed(Terminal.Terminal, {
  columns: Effect.succeed(100),
  rows: Effect.succeed(30),
  isTTY: Effect.succeed(false),
  readInput: Effect.die("no terminal input in tests"),
  readLine: Effect.die("no terminal input in tests"),
  display: () => Effect.void
})

/**
 * The CLI in this process: test CliLayers (DeviceCodeAuth over a fake HttpClient and the real file system), a recording
 * terminal and console, CODEX_HOME set through the ConfigProvider. Returns the running fiber and what it printed.
 */
const runInProcess = (args: ReadonlyArray<string>, home: string, reply: (url: string) => Reply) =>
  Effect.gen(function* () {
    const fake = fakeClient((request) => reply(request.url))
    const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)
    const http = Layer.succeed(HttpClient.HttpClient, fake.client)
    const layers = Layer.succeed(CliLayers, {
      auth: ({ verbose: _, ...options }) =>
        DeviceCodeAuth.layer(options).pipe(Layer.provide(Layer.merge(http, platform))),
      store: ({ verbose: _, ...options }) => DeviceCodeAuth.layerStore(options).pipe(Layer.provide(platform))
    })
    const terminal = yield* TestTerminal.capture()
    const printed: Array<string> = []
    const base = yield* Effect.console
    const console = {
      ...base,
      log: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(`stdout: ${args.join(" ")}`)),
      error: (...args: ReadonlyArray<unknown>) => Effect.sync(() => void printed.push(`stderr: ${args.join(" ")}`))
    }
    const fiber = yield* cli(["node", "devicecode", ...args]).pipe(
      Effect.provide(Layer.mergeAll(platform, noTerminal, layers, terminal.layer)),
      Effect.withConsole(console),
      Effect.withConfigProvider(ConfigProvider.fromMap(new Map([["CODEX_HOME", home]]))),
      Effect.exit,
      Effect.fork
    )
    return { fiber, printed, terminal, requests: fake.requests }
  })

/** Waits in real time (5 ms a try, 5 s at most) until `check` holds: for the file I/O a command does between steps. */
const eventually = (check: Effect.Effect<boolean>) =>
  Effect.zipLeft(check, TestServices.provideLive(Effect.sleep("5 millis"))).pipe(
    Effect.repeat({ until: (ok) => ok, times: 1000 }),
    Effect.flatMap((ok) => (ok ? Effect.void : Effect.dieMessage("condition not met within 5 s")))
  )

/** Whether a fiber sleeps until exactly `millis` on the TestClock. */
const nextWakeUpAt = (millis: number) =>
  Effect.map(TestClock.sleeps(), (sleeps) => Chunk.toReadonlyArray(sleeps).includes(millis))

describe("devicecode in process (Command.run with test layers, no child process)", () => {
  it.scoped("login under TestClock: the prompt, one poll per 5 s, the success line and the stored record", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const run = yield* runInProcess(["login", "--issuer", issuer], home, codexAnswers(2))
      // real file I/O runs first: wait (bounded) until the first poll has gone out and the next one is due at 5 s
      yield* eventually(nextWakeUpAt(5_000))
      const prompt = yield* run.terminal.text("stdout")
      assert.include(prompt, `${issuer}/codex/device`)
      assert.include(prompt, "ABCD-EFGHJ")
      yield* TestClock.adjust("5 seconds")
      yield* eventually(nextWakeUpAt(10_000))
      assert.isTrue(Option.isNone(yield* Fiber.poll(run.fiber)), "still polling at 5 s")
      assert.strictEqual(run.requests.filter((request) => request.url.endsWith("/deviceauth/token")).length, 2)
      yield* TestClock.adjust("5 seconds")
      const exit = yield* Fiber.join(run.fiber)
      assert.strictEqual(exit._tag, "Success", JSON.stringify(run.printed))
      assert.include(run.printed, "stdout: Successfully logged in as dev@example.com (plus)")
      const polls = run.requests.filter((request) => request.url.endsWith("/deviceauth/token"))
      assert.strictEqual(polls.length, 3)

      const authJson = join(home, "auth.json")
      assert.isTrue(existsSync(authJson))
      const stored = parseStoredAuth(readFileSync(authJson, "utf8"))
      assert.strictEqual(stored._tag, "Right")
      if (stored._tag !== "Right") return
      const tokens = Option.getOrThrow(stored.right.tokens)
      assert.strictEqual(Option.getOrNull(Option.map(tokens.refreshToken, Redacted.value)), "rt_inprocess")
      assert.strictEqual(Option.getOrNull(tokens.accountId), "acct_test")
      assert.strictEqual(Option.getOrNull(Option.map(stored.right.origin, (origin) => origin.issuer)), issuer)
    })
  )

  it.scoped("status reads the same store, and token prints the stored access token, with no request", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const login = yield* runInProcess(["login", "--issuer", issuer], home, codexAnswers(0))
      assert.strictEqual((yield* Fiber.join(login.fiber))._tag, "Success")

      const status = yield* runInProcess(["status"], home, () => json(500, {}))
      assert.strictEqual((yield* Fiber.join(status.fiber))._tag, "Success")
      assert.include(status.printed.join("\n"), "Logged in using ChatGPT")
      assert.include(status.printed.join("\n"), "dev@example.com")

      const token = yield* runInProcess(["token"], home, () => json(500, {}))
      assert.strictEqual((yield* Fiber.join(token.fiber))._tag, "Success")
      assert.deepStrictEqual(token.printed, [`stdout: ${unsignedJwt({ exp: 4_102_444_800 })}`])
      assert.strictEqual(token.requests.length, 0)
    })
  )
})
