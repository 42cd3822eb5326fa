import { ValidationError } from "@effect/cli"
import { HttpClient } from "@effect/platform"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  ConfigProvider,
  Effect,
  Exit,
  Fiber,
  Layer,
  Option,
  Redacted,
  TestClock,
  TestServices
} from "effect"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
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

/**
 * The CLI in this process: test CliLayers (DeviceCodeAuth over a fake HttpClient and the real file system), a recording
 * terminal and console, CODEX_HOME set through the ConfigProvider. Returns the running fiber and what it printed.
 */
const runInProcess = (args: ReadonlyArray<string>, home: string, reply: (url: string) => Reply | "never") =>
  Effect.gen(function* () {
    const fake = fakeClient((request) => reply(request.url))
    const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)
    const http = Layer.succeed(HttpClient.HttpClient, fake.client)
    const layers = Layer.succeed(CliLayers, {
      auth: ({ verbose: _, ...options }) =>
        DeviceCodeAuth.layer(options).pipe(Layer.provide(Layer.merge(http, platform))),
      session: ({ verbose: _, ...options }) =>
        DeviceCodeAuth.layerSession(options).pipe(Layer.provide(Layer.merge(http, platform))),
      store: ({ verbose: _, ...options }) => DeviceCodeAuth.layerStore(options).pipe(Layer.provide(platform)),
      browser: Layer.die("no browser login here")
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
      Effect.provide(Layer.mergeAll(platform, TestTerminal.noTerminal, layers, terminal.layer)),
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

  it.scoped("logout revokes the access token, hinted as one, when no refresh token is stored (as codex does)", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const access = unsignedJwt({ exp: 4_102_444_800 })
      writeFileSync(
        join(home, "auth.json"),
        JSON.stringify({
          auth_mode: "chatgpt",
          OPENAI_API_KEY: null,
          tokens: { id_token: unsignedJwt(chatgptClaims()), access_token: access, refresh_token: "", account_id: null },
          last_refresh: "2026-01-01T00:00:00Z"
        })
      )
      const logout = yield* runInProcess(["logout"], home, () => ({ status: 200 }))
      assert.strictEqual((yield* Fiber.join(logout.fiber))._tag, "Success", JSON.stringify(logout.printed))
      assert.deepStrictEqual(
        logout.requests.map((request) => [request.url, JSON.parse(request.body)]),
        [
          [
            "https://auth.openai.com/oauth/revoke",
            { token: access, token_type_hint: "access_token", client_id: "app_EMoamEEZ73f0CkXaXp7hrann" }
          ]
        ]
      )
      assert.isFalse(existsSync(join(home, "auth.json")))
    })
  )
})

/** Every control byte in what a run printed, through the Console or the terminal (none is wanted). */
const controlBytesOf = (run: { readonly printed: ReadonlyArray<string>; readonly terminal: TestTerminal.Capture }) =>
  Effect.map(
    run.terminal.writes,
    (writes) =>
      [...run.printed, ...writes.map((write) => write.text)]
        .join("\n")
        .match(/[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e]/g) ?? []
  )

/** Moves the TestClock a second at a time (bounded) until the fiber is done: for retries with jittered delays. */
const runToEnd = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.gen(function* () {
    for (let second = 0; second < 120; second++) {
      if (Option.isSome(yield* Fiber.poll(fiber))) break
      yield* TestClock.adjust("1 second")
      yield* TestServices.provideLive(Effect.sleep("5 millis"))
    }
    return yield* Fiber.join(fiber)
  })

/** The error a command failed with, if any. */
const failureOf = <A>(exit: Exit.Exit<A, unknown>) =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined

describe("devicecode in process: hostile servers and odd input", () => {
  it.scoped("a hostile user_code, error text and email reach neither stdout nor stderr as escapes", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      let usercodeCalls = 0
      let exchangeCalls = 0
      const run = yield* runInProcess(["login", "--issuer", issuer], home, (url) => {
        if (url.endsWith("/usercode")) {
          return usercodeCalls++ === 0
            ? json(503, { error: { message: "busy \x1b]0;pwn\x07\x1b[2J" } })
            : json(200, { device_auth_id: "deviceauth_1", user_code: "ABCD\x1b[2J", interval: "5" })
        }
        if (url.endsWith("/deviceauth/token")) {
          return json(200, { authorization_code: "ac_1", code_challenge: s256Challenge("cv_1"), code_verifier: "cv_1" })
        }
        if (exchangeCalls++ === 0) return json(502, { error_description: "gateway \u009b2J\u202e" })
        return json(200, {
          id_token: unsignedJwt(chatgptClaims({ email: "dev@example.com\x1b]0;pwn\x07", plan: "plus\x1b[5m" })),
          access_token: unsignedJwt({ exp: 4_102_444_800 }),
          refresh_token: "rt_inprocess"
        })
      })
      const exit = yield* runToEnd(run.fiber)
      assert.strictEqual(exit._tag, "Success", JSON.stringify(run.printed))
      const stdout = yield* run.terminal.text("stdout")
      const stderr = yield* run.terminal.text("stderr")
      assert.include(stdout, "ABCD\\x1b[2J")
      assert.include(run.printed, "stdout: Successfully logged in as dev@example.com\\x1b]0;pwn\\x07 (plus\\x1b[5m)")
      // both retries are told on stderr, with what failed and how long until the next try
      assert.match(stderr, /^device code request could not reach .*busy.*; retrying in \d+s\.$/m)
      assert.match(stderr, /^device code exchange could not reach .*gateway.*; retrying in \d+s\.$/m)
      assert.isBelow(stderr.indexOf("busy"), stderr.indexOf("Approved"), "the device-code retry comes before approval")
      assert.isAbove(stderr.indexOf("gateway"), stderr.indexOf("Approved"), "the exchange retry after it")
      assert.deepStrictEqual(yield* controlBytesOf(run), [])
    })
  )

  it.scoped("login --json: retries of the code request and of the exchange are retrying events", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      let usercodeCalls = 0
      let exchangeCalls = 0
      const run = yield* runInProcess(["login", "--issuer", issuer, "--json"], home, (url) => {
        if (url.endsWith("/usercode")) {
          return usercodeCalls++ === 0
            ? json(503, {})
            : json(200, { device_auth_id: "deviceauth_1", user_code: "ABCD\x1b[2J", interval: "5" })
        }
        if (url.endsWith("/deviceauth/token")) {
          return json(200, { authorization_code: "ac_1", code_challenge: s256Challenge("cv_1"), code_verifier: "cv_1" })
        }
        if (exchangeCalls++ === 0) return json(503, {})
        return json(200, {
          id_token: unsignedJwt(chatgptClaims({ email: "dev@example.com\u009b2J" })),
          access_token: unsignedJwt({ exp: 4_102_444_800 }),
          refresh_token: "rt_inprocess"
        })
      })
      const exit = yield* runToEnd(run.fiber)
      assert.strictEqual(exit._tag, "Success", JSON.stringify(run.printed))
      const lines = run.printed.filter((line) => line.startsWith("stdout: ")).map((line) => line.slice(8))
      const events = lines.map((line) => JSON.parse(line).event)
      assert.deepStrictEqual(
        events.filter((event) => event !== "waiting"),
        ["retrying", "code", "approved", "retrying", "logged_in"]
      )
      assert.strictEqual(JSON.parse(lines[1]!).user_code, "ABCD\x1b[2J", "JSON carries the value, escaped by JSON")
      assert.strictEqual(JSON.parse(lines.at(-1)!).email, "dev@example.com\u009b2J")
      assert.deepStrictEqual(yield* controlBytesOf(run), [])
    })
  )

  it.scoped("--issuer over plain http to another host is a usage error before any request", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      for (const bad of ["http://example.com", "https://alice:hunter2@example.com", "https://example.com/?a=1"]) {
        const run = yield* runInProcess(["login", "--issuer", bad], home, () => json(200, {}))
        const error = failureOf(yield* Fiber.join(run.fiber))
        assert.isTrue(ValidationError.isValidationError(error), bad)
        assert.strictEqual(run.requests.length, 0, bad)
        assert.notInclude(run.printed.join("\n"), "hunter2")
        assert.notInclude(run.printed.join("\n"), "alice")
      }
    })
  )

  it.scoped("status, token and logout agree on odd files: a null or empty key, or {}, is not logged in", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authJson = join(home, "auth.json")
      for (const text of ['{"auth_mode":"apikey","OPENAI_API_KEY":null}', '{"OPENAI_API_KEY":""}', "{}"]) {
        writeFileSync(authJson, text)
        const status = yield* runInProcess(["status"], home, () => json(500, {}))
        const statusError = failureOf(yield* Fiber.join(status.fiber))
        assert.deepStrictEqual(status.printed, ["stdout: Not logged in. To log in, run: devicecode login"], text)
        assert.strictEqual((statusError as { readonly code?: number } | undefined)?.code, 1, text)

        const token = yield* runInProcess(["token"], home, () => json(500, {}))
        const tokenError = failureOf(yield* Fiber.join(token.fiber))
        assert.strictEqual((tokenError as { readonly code?: number } | undefined)?.code, 1, text)
        assert.deepStrictEqual(
          token.printed,
          ["stderr: Error: Not logged in. To log in, run: devicecode login"],
          "no empty token line, and the next step"
        )

        const logout = yield* runInProcess(["logout"], home, () => json(500, {}))
        assert.strictEqual((yield* Fiber.join(logout.fiber))._tag, "Success", text)
        assert.deepStrictEqual(logout.printed, ["stdout: Not logged in"], text)
        assert.strictEqual(logout.requests.length, 0, "nothing to revoke")
      }
      const none = yield* runInProcess(["logout"], home, () => json(500, {}))
      assert.strictEqual((yield* Fiber.join(none.fiber))._tag, "Success")
      assert.deepStrictEqual(none.printed, ["stdout: Not logged in"])
    })
  )

  it.scoped("a hostile email in auth.json: status escapes it", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const login = yield* runInProcess(["login", "--issuer", issuer], home, codexAnswers(0))
      assert.strictEqual((yield* Fiber.join(login.fiber))._tag, "Success")
      const authJson = join(home, "auth.json")
      const record = JSON.parse(readFileSync(authJson, "utf8"))
      record.tokens.id_token = unsignedJwt(chatgptClaims({ email: "dev@example.com\x1b]0;pwn\x07", plan: "\u009b2J" }))
      record.tokens.account_id = "acct\x1b[2J"
      writeFileSync(authJson, JSON.stringify(record))
      for (const args of [["status"], ["status", "--all"], ["status", "--json"]]) {
        const status = yield* runInProcess(args, home, () => json(500, {}))
        assert.strictEqual((yield* Fiber.join(status.fiber))._tag, "Success", args.join(" "))
        assert.include(status.printed.join("\n"), "dev@example.com", args.join(" "))
        assert.deepStrictEqual(yield* controlBytesOf(status), [], args.join(" "))
      }
    })
  )

  it.scoped(
    "a broken config.toml: status and logout with --store warn and go on; token, login and plain logout fail",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        writeFileSync(join(home, "config.toml"), "cli_auth_credentials_store = [oops\n")
        writeFileSync(join(home, "auth.json"), '{"OPENAI_API_KEY":"sk-proj-TESTKEY0123456789abcdef"}')
        const status = yield* runInProcess(["status", "--store", "file"], home, () => json(500, {}))
        assert.strictEqual((yield* Fiber.join(status.fiber))._tag, "Success")
        assert.include(status.printed.join("\n"), "API key configured - ")

        for (const args of [["status"], ["token"], ["logout"], ["login", "--with-api-key"]]) {
          const run = yield* runInProcess(args, home, () => json(500, {}))
          const error = failureOf(yield* Fiber.join(run.fiber)) as { readonly _tag?: string; readonly reason?: string }
          assert.strictEqual(error?._tag, "ConfigError", args.join(" "))
          assert.strictEqual(error?.reason, "ConfigFile", args.join(" "))
        }
        assert.isTrue(existsSync(join(home, "auth.json")))

        const logout = yield* runInProcess(["logout", "--store", "file"], home, () => json(500, {}))
        assert.strictEqual((yield* Fiber.join(logout.fiber))._tag, "Success")
        assert.deepStrictEqual(logout.printed, ["stdout: Successfully logged out"])
        assert.isFalse(existsSync(join(home, "auth.json")))
      })
  )
})

describe("real bounds under TestClock (what would take a minute of real time in a child process)", () => {
  it.scoped("a 429 poll with Retry-After: 3600 waits the 60 s cap, then the login completes (--json)", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const approved = codexAnswers(0)
      let polls = 0
      const run = yield* runInProcess(["login", "--issuer", issuer, "--json"], home, (url) =>
        url.endsWith("/deviceauth/token") && polls++ === 0
          ? json(429, { error: "slow down" }, { "retry-after": "3600" })
          : approved(url)
      )
      yield* eventually(nextWakeUpAt(60_000))
      yield* TestClock.adjust("59999 millis")
      assert.strictEqual(polls, 1, "no second poll before the 60 s cap")
      yield* TestClock.adjust("1 millis")
      const exit = yield* Fiber.join(run.fiber)
      assert.strictEqual(exit._tag, "Success", JSON.stringify(run.printed))
      assert.strictEqual(polls, 2)
      const events = run.printed.map((line) => JSON.parse(line.replace(/^stdout: /, "")) as Record<string, unknown>)
      const retrying = events.filter((event) => event.event === "retrying")
      assert.strictEqual(retrying.length, 1)
      assert.include(String(retrying[0]?.message), "429")
      assert.strictEqual(events.at(-1)?.event, "logged_in")
      assert.isTrue(existsSync(join(home, "auth.json")))
    })
  )

  it.scoped("a refresh that never answers: token ends by itself within 75 s, with a clear error and no output", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(
        join(home, "auth.json"),
        JSON.stringify({
          auth_mode: "chatgpt",
          OPENAI_API_KEY: null,
          tokens: {
            id_token: unsignedJwt(chatgptClaims()),
            access_token: unsignedJwt({ exp: 1 }),
            refresh_token: "rt_hanging",
            account_id: null
          },
          last_refresh: "2026-01-01T00:00:00Z"
        })
      )
      const run = yield* runInProcess(["token"], home, (url) =>
        url.endsWith("/oauth/token") ? "never" : json(500, {})
      )
      const exit = yield* runToEnd(run.fiber)
      assert.isBelow(yield* TestClock.currentTimeMillis, 75_000)
      const error = failureOf(exit)
      assert.match(error instanceof Error ? error.message : String(error), /refresh|reach|answer/i)
      assert.isFalse(
        run.printed.some((line) => line.startsWith("stdout:")),
        JSON.stringify(run.printed)
      )
      assert.isAtLeast(run.requests.filter((request) => request.url.endsWith("/oauth/token")).length, 1)
    })
  )
})
