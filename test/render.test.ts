import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { DeviceCode } from "../src/domain/DeviceCode.js"
import { LoginEvent } from "../src/domain/LoginEvent.js"
import { eventLine, promptText, whoText } from "../src/cli/render.js"
import { statusTable, statusText } from "../src/cli/statusRun.js"
import { emptyClaims } from "../src/domain/IdTokenClaims.js"
import * as Terminal from "../src/cli/terminal.js"
import * as TestTerminal from "./support/terminal.js"
import {
  clearLine,
  countdown,
  drawLine,
  makeLoginRenderer,
  type ScreenState,
  statusLine
} from "../src/cli/waitingScreen.js"

const uri = "https://issuer.test/codex/device"
const code = new DeviceCode({
  deviceCode: Redacted.make("device-secret"),
  userCode: "ABCD-EFGHI",
  verificationUri: uri,
  verificationUriComplete: Option.none(),
  interval: Duration.seconds(5),
  expiresAt: Option.none()
})

/** A renderer on a capturing terminal, with the code issued now and valid for 15 minutes. */
const issued = (flags: Parameters<typeof TestTerminal.capture>[0]) =>
  Effect.gen(function* () {
    const capture = yield* TestTerminal.capture(flags)
    const renderer = yield* Effect.provide(makeLoginRenderer, capture.layer)
    const deadline = DateTime.addDuration(yield* DateTime.now, Duration.minutes(15))
    yield* renderer.onEvent(LoginEvent.CodeIssued({ code, deadline }))
    return { capture, renderer }
  })

const tty = { stdoutIsTty: true, stderrIsTty: true, color: true } as const
const lastWrite = (capture: TestTerminal.Capture) => Effect.map(capture.writes, (writes) => writes[writes.length - 1])
const stderrWrite = (text: string): TestTerminal.CapturedWrite => ({ stream: "stderr", text })

describe("status line frames (pure)", () => {
  const deadline = DateTime.unsafeMake(15 * 60 * 1000)
  const state: ScreenState = { deadline, frame: 0, slowedTo: Option.none(), retrying: Option.none() }

  it("counts down mm:ss, rounded up, never below zero", () => {
    assert.strictEqual(countdown(deadline, DateTime.unsafeMake(0)), "15:00")
    assert.strictEqual(countdown(deadline, DateTime.unsafeMake(1)), "15:00")
    assert.strictEqual(countdown(deadline, DateTime.unsafeMake(1000)), "14:59")
    assert.strictEqual(countdown(deadline, DateTime.unsafeMake(14 * 60 * 1000 + 50_500)), "00:10")
    assert.strictEqual(countdown(deadline, DateTime.unsafeMake(20 * 60 * 1000)), "00:00")
  })

  it("shows spinner, countdown and the poll status; retrying beats slowed down", () => {
    const now = DateTime.unsafeMake(61_000)
    assert.strictEqual(statusLine(state, now), "⠋ Code valid for 13:59 · waiting for approval (Ctrl-C to cancel)")
    const slowed = { ...state, frame: 11, slowedTo: Option.some(Duration.seconds(10)) }
    assert.strictEqual(
      statusLine(slowed, now),
      "⠙ Code valid for 13:59 · server asked us to slow down, polling every 10 s"
    )
    const retrying = { ...slowed, retrying: Option.some({ detail: "HTTP 503", delay: Duration.seconds(5) }) }
    assert.strictEqual(statusLine(retrying, now), "⠙ Code valid for 13:59 · HTTP 503; retrying in 5 s")
  })

  it("redraws in place with wrapping off", () => {
    assert.strictEqual(clearLine, "\r\x1b[2K")
    assert.strictEqual(drawLine("x"), "\r\x1b[2K\x1b[?7lx\x1b[?7h")
  })
})

describe("waiting screen on a terminal (TestClock)", () => {
  it.scoped("prompt (link, colours) on stdout, then one line from the first poll on, redrawn once a second", () =>
    Effect.gen(function* () {
      const { capture, renderer } = yield* issued(tty)
      const prompt = `${promptText(uri, "ABCD-EFGHI", Duration.minutes(15), { hyperlink: true, color: true })}\n`
      assert.deepStrictEqual(yield* capture.writes, [{ stream: "stdout", text: prompt }])
      assert.include(prompt, `\x1b[94m\x1b]8;;${uri}\x1b\\${uri}\x1b]8;;\x1b\\\x1b[0m`)
      assert.include(prompt, "one-time code \x1b[90m(valid for 15 minutes)\x1b[0m:\n     \x1b[94mABCD-EFGHI\x1b[0m\n")

      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠋ Code valid for 15:00 · waiting for approval (Ctrl-C to cancel)"))
      )
      assert.strictEqual((yield* capture.writes).length, 2)
      yield* TestClock.adjust("500 millis")
      assert.strictEqual((yield* capture.writes).length, 2, "no redraw within the second")
      yield* TestClock.adjust("500 millis")
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠙ Code valid for 14:59 · waiting for approval (Ctrl-C to cancel)"))
      )
      assert.strictEqual((yield* capture.writes).length, 3)

      yield* renderer.onEvent(LoginEvent.SlowedDown({ interval: Duration.seconds(10) }))
      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 2, nextPollIn: Duration.seconds(10) }))
      assert.strictEqual((yield* capture.writes).length, 3, "a change waits for the next redraw")
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠹ Code valid for 14:58 · server asked us to slow down, polling every 10 s"))
      )

      yield* renderer.onEvent(LoginEvent.Retrying({ detail: "HTTP 503 from the issuer", delay: Duration.seconds(5) }))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠸ Code valid for 14:57 · HTTP 503 from the issuer; retrying in 5 s"))
      )
      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 3, nextPollIn: Duration.seconds(10) }))
      yield* TestClock.adjust("1 second")
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠼ Code valid for 14:56 · server asked us to slow down, polling every 10 s"))
      )
      assert.strictEqual((yield* capture.writes).length, 6, "one redraw per second, nothing in between")

      yield* renderer.onEvent(LoginEvent.Approved())
      assert.deepStrictEqual((yield* capture.writes).slice(6), [
        stderrWrite(clearLine),
        stderrWrite("Approved; fetching tokens…\n")
      ])
      yield* TestClock.adjust("10 seconds")
      assert.strictEqual((yield* capture.writes).length, 8, "no redraw after approval")
    })
  )

  it.effect("interruption (Ctrl-C) clears the line", () =>
    Effect.gen(function* () {
      const capture = yield* TestTerminal.capture(tty)
      const fiber = yield* Effect.gen(function* () {
        const renderer = yield* makeLoginRenderer
        const deadline = DateTime.addDuration(yield* DateTime.now, Duration.minutes(15))
        yield* renderer.onEvent(LoginEvent.CodeIssued({ code, deadline }))
        return yield* Effect.never
      }).pipe(Effect.scoped, Effect.provide(capture.layer), Effect.fork)
      yield* Effect.yieldNow()
      yield* TestClock.adjust("2 seconds")
      assert.deepStrictEqual(
        yield* lastWrite(capture),
        stderrWrite(drawLine("⠙ Code valid for 14:58 · waiting for approval (Ctrl-C to cancel)")),
        "without a poll answer the ticker draws the first frame"
      )
      yield* Fiber.interrupt(fiber)
      const writes = yield* capture.writes
      assert.deepStrictEqual(writes[writes.length - 1], stderrWrite(clearLine))
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual((yield* capture.writes).length, writes.length, "the ticker stopped with the scope")
    })
  )

  it.effect("a failed login clears the line too", () =>
    Effect.gen(function* () {
      const capture = yield* TestTerminal.capture(tty)
      const exit = yield* Effect.gen(function* () {
        const renderer = yield* makeLoginRenderer
        const deadline = DateTime.addDuration(yield* DateTime.now, Duration.minutes(15))
        yield* renderer.onEvent(LoginEvent.CodeIssued({ code, deadline }))
        yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
        return yield* Effect.fail("expired")
      }).pipe(Effect.scoped, Effect.provide(capture.layer), Effect.exit)
      assert.isTrue(Exit.isFailure(exit))
      assert.deepStrictEqual(yield* lastWrite(capture), stderrWrite(clearLine))
    })
  )

  it.scoped("print: text after the prompt comes before the line; later text goes above it", () =>
    Effect.gen(function* () {
      const { capture, renderer } = yield* issued(tty)
      yield* renderer.print("stdout", "QR\n")
      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
      yield* renderer.print("stderr", "Demo: approving ABCD-EFGHI")
      const frame = stderrWrite(drawLine("⠋ Code valid for 15:00 · waiting for approval (Ctrl-C to cancel)"))
      assert.deepStrictEqual((yield* capture.writes).slice(1), [
        { stream: "stdout", text: "QR\n" },
        frame,
        stderrWrite(clearLine),
        stderrWrite("Demo: approving ABCD-EFGHI\n"),
        frame
      ])
    })
  )

  it.scoped("a warning before the code is a plain line", () =>
    Effect.gen(function* () {
      const capture = yield* TestTerminal.capture(tty)
      const renderer = yield* Effect.provide(makeLoginRenderer, capture.layer)
      yield* renderer.onEvent(LoginEvent.StoreUnreadable({ detail: "auth.json is not valid JSON" }))
      assert.deepStrictEqual(yield* capture.writes, [
        stderrWrite("Warning: auth.json is not valid JSON. It will be replaced once you sign in.\n")
      ])
    })
  )
})

/** The whole event sequence of a login that was slowed down and retried, with the clock moving. */
const plainRun = (flags: Parameters<typeof TestTerminal.capture>[0]) =>
  Effect.gen(function* () {
    const capture = yield* TestTerminal.capture(flags)
    const renderer = yield* Effect.provide(makeLoginRenderer, capture.layer)
    yield* renderer.onEvent(LoginEvent.StoreUnreadable({ detail: "auth.json is not valid JSON" }))
    const deadline = DateTime.addDuration(yield* DateTime.now, Duration.minutes(15))
    yield* renderer.onEvent(LoginEvent.CodeIssued({ code, deadline }))
    yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
    yield* TestClock.adjust("5 seconds")
    yield* renderer.onEvent(LoginEvent.SlowedDown({ interval: Duration.seconds(10) }))
    yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 2, nextPollIn: Duration.seconds(10) }))
    yield* TestClock.adjust("10 seconds")
    yield* renderer.onEvent(LoginEvent.Retrying({ detail: "HTTP 503 from the issuer", delay: Duration.seconds(5) }))
    yield* TestClock.adjust("5 seconds")
    yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 4, nextPollIn: Duration.seconds(10) }))
    yield* TestClock.adjust("10 seconds")
    yield* renderer.onEvent(LoginEvent.Approved())
    yield* renderer.close
    return capture
  })

const plainStderr = [
  "Warning: auth.json is not valid JSON. It will be replaced once you sign in.\n",
  "Waiting for the code to be approved… (Ctrl-C to cancel)\n",
  "The server asked us to slow down; polling every 10s.\n",
  "HTTP 503 from the issuer; retrying in 5s.\n",
  "Approved; fetching tokens…\n"
]

describe("waiting screen without a terminal or colour", () => {
  it.scoped("not a terminal: the prompt and one plain line per change, no escape byte", () =>
    Effect.gen(function* () {
      const capture = yield* plainRun({})
      assert.deepStrictEqual(yield* capture.writes, [
        stderrWrite(plainStderr[0]!),
        { stream: "stdout", text: `${promptText(uri, "ABCD-EFGHI", Duration.minutes(15))}\n` },
        ...plainStderr.slice(1).map(stderrWrite)
      ])
      assert.notInclude(JSON.stringify(yield* capture.writes), "\\u001b")
      assert.isFalse((yield* capture.writes).some((write) => write.text.includes("\x1b")))
    })
  )

  it.scoped("NO_COLOR or --no-color on a terminal: the same plain output", () =>
    Effect.gen(function* () {
      const capture = yield* plainRun({ stdoutIsTty: true, stderrIsTty: true, color: false })
      assert.strictEqual(yield* capture.text("stderr"), plainStderr.join(""))
      assert.strictEqual(yield* capture.text("stdout"), `${promptText(uri, "ABCD-EFGHI", Duration.minutes(15))}\n`)
      assert.isFalse((yield* capture.writes).some((write) => write.text.includes("\x1b")))
    })
  )

  it.scoped("a colour terminal on stderr with stdout piped: live line, but no link in the prompt", () =>
    Effect.gen(function* () {
      const { capture, renderer } = yield* issued({ stdoutIsTty: false, stderrIsTty: true, color: true })
      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
      assert.isFalse((yield* capture.text("stdout")).includes("\x1b"))
      assert.include(yield* capture.text("stderr"), "Code valid for 15:00")
    })
  )

  it("colour: off with NO_COLOR set to anything non-empty, --no-color, TERM=dumb or no terminal", () => {
    const on = { noColor: false, env: {}, isTty: true }
    assert.isTrue(Terminal.colorEnabled(on))
    assert.isTrue(Terminal.colorEnabled({ ...on, env: { NO_COLOR: "" } }), "no-color.org: an empty value is unset")
    assert.isFalse(Terminal.colorEnabled({ ...on, env: { NO_COLOR: "1" } }))
    assert.isFalse(Terminal.colorEnabled({ ...on, env: { NO_COLOR: "0" } }))
    assert.isFalse(Terminal.colorEnabled({ ...on, env: { TERM: "dumb" } }))
    assert.isFalse(Terminal.colorEnabled({ ...on, noColor: true }))
    assert.isFalse(Terminal.colorEnabled({ ...on, isTty: false }))
  })
})

const sgr = /\x1b\[[0-9;]*m/g

describe("the prompt's colours (codex 0.171's: bright blue page and code, grey validity and warning)", () => {
  const plain = promptText(uri, "ABCD-EFGHI", Duration.minutes(15))

  it("with colour: the code and the page in SGR 94, the validity and each warning line in SGR 90, each reset", () => {
    const colored = promptText(uri, "ABCD-EFGHI", Duration.minutes(15), { color: true })
    assert.deepStrictEqual(colored.split("\n").slice(1, -1), [
      "Sign in with your browser:",
      "",
      "  1. Open this page:",
      `     \x1b[94m${uri}\x1b[0m`,
      "",
      "  2. Enter this one-time code \x1b[90m(valid for 15 minutes)\x1b[0m:",
      "     \x1b[94mABCD-EFGHI\x1b[0m",
      "",
      "\x1b[90mDevice codes are a common phishing target. Never share this code, and continue only if you\x1b[0m",
      "\x1b[90mstarted this login yourself.\x1b[0m"
    ])
    assert.strictEqual(colored.replace(sgr, ""), plain, "the same text without the colours")
    const linked = promptText(uri, "ABCD-EFGHI", Duration.minutes(15), { color: true, hyperlink: true })
    assert.strictEqual(
      linked.replace(sgr, ""),
      promptText(uri, "ABCD-EFGHI", Duration.minutes(15), { hyperlink: true })
    )
  })

  it("without colour: the plain text, byte for byte", () => {
    assert.strictEqual(
      plain,
      "\nSign in with your browser:\n\n  1. Open this page:\n     https://issuer.test/codex/device\n\n" +
        "  2. Enter this one-time code (valid for 15 minutes):\n     ABCD-EFGHI\n\n" +
        "Device codes are a common phishing target. Never share this code, and continue only if you\n" +
        "started this login yourself.\n"
    )
    assert.strictEqual(promptText(uri, "ABCD-EFGHI", Duration.minutes(15), { color: false }), plain)
  })

  it.scoped("the waiting screen paints the prompt on a colour terminal only, never off one or with NO_COLOR", () =>
    Effect.gen(function* () {
      const colored = yield* issued(tty)
      assert.include(yield* colored.capture.text("stdout"), "     \x1b[94mABCD-EFGHI\x1b[0m\n")
      assert.include(yield* colored.capture.text("stdout"), "\x1b[90mstarted this login yourself.\x1b[0m\n")
      for (const flags of [
        {},
        { stdoutIsTty: true, stderrIsTty: true, color: false },
        { stdoutIsTty: false, stderrIsTty: true, color: true }
      ]) {
        const { capture } = yield* issued(flags)
        assert.strictEqual(yield* capture.text("stdout"), `${plain}\n`, JSON.stringify(flags))
      }
    })
  )
})

/** What a hostile server or file may put in any text: a screen clear, a title change, a bare CSI, a bidi override. */
const hostile = {
  userCode: "ABCD\x1b[2J",
  uri: "https://issuer.test/codex/device\x1b]8;;https://evil.test\x07",
  email: "dev@example.com\x1b]0;pwn\x07",
  plan: "plus\u009b2J",
  detail: "HTTP 503: \x1b[31mdown\u202e\r"
}

/** Whether a write holds a control byte other than the escapes the renderer itself draws with. */
const controlBytes = (text: string) =>
  text
    .replaceAll(clearLine, "")
    .replaceAll("\x1b[?7l", "")
    .replaceAll("\x1b[?7h", "")
    .replace(/\x1b\[(94|90|0)m/g, "")
    .replace(/\x1b\]8;;[^\x1b]*\x1b\\/g, "")
    .replace(/\n/g, "")
    .match(/[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g) ?? []

describe("hostile server text on the screen", () => {
  const hostileCode = new DeviceCode({
    deviceCode: Redacted.make("device-secret"),
    userCode: hostile.userCode,
    verificationUri: hostile.uri,
    verificationUriComplete: Option.none(),
    interval: Duration.seconds(5),
    expiresAt: Option.none()
  })

  it("the prompt shows the code and the page escaped, with or without a link and colours", () => {
    for (const link of [false, true]) {
      const text = promptText(hostile.uri, hostile.userCode, Duration.minutes(15), { hyperlink: link })
      assert.include(text, "     ABCD\\x1b[2J\n")
      const colored = promptText(hostile.uri, hostile.userCode, Duration.minutes(15), { hyperlink: link, color: true })
      assert.include(colored, "     \x1b[94mABCD\\x1b[2J\x1b[0m\n")
      assert.deepStrictEqual(controlBytes(colored), [])
      assert.include(text, "https://issuer.test/codex/device\\x1b]8;;https://evil.test\\x07")
      assert.deepStrictEqual(controlBytes(text), [])
    }
  })

  it("event lines, the status line and the success line escape the server's words", () => {
    const retry = eventLine(LoginEvent.Retrying({ detail: hostile.detail, delay: Duration.seconds(2) }))
    assert.deepStrictEqual(retry, Option.some("HTTP 503: \\x1b[31mdown\\u202e\\r; retrying in 2s."))
    const unreadable = Option.getOrThrow(eventLine(LoginEvent.StoreUnreadable({ detail: hostile.email })))
    assert.deepStrictEqual(controlBytes(unreadable), [])
    const state: ScreenState = {
      deadline: DateTime.unsafeMake(60_000),
      frame: 0,
      slowedTo: Option.none(),
      retrying: Option.some({ detail: hostile.detail, delay: Duration.seconds(2) })
    }
    assert.deepStrictEqual(controlBytes(statusLine(state, DateTime.unsafeMake(0))), [])
    const who = whoText({ ...emptyClaims, email: Option.some(hostile.email), plan: Option.some(hostile.plan) })
    assert.strictEqual(who, "dev@example.com\\x1b]0;pwn\\x07 (plus\\u009b2J)")
  })

  it("status and status --all print every field escaped, one line each", () => {
    const report = {
      profile: "default",
      logged_in: true,
      method: "chatgpt" as const,
      email: hostile.email,
      plan: hostile.plan,
      account_id: "acct\n  Plan:          enterprise",
      issuer: "https://issuer.test\u202e",
      access_token_expires_at: null,
      store: "/home/dev/.codex/auth.json"
    }
    const now = DateTime.unsafeMake(0)
    const text = statusText(report, now)
    assert.include(text, "  Email:         dev@example.com\\x1b]0;pwn\\x07")
    assert.include(text, "  Account id:    acct\\n  Plan:          enterprise")
    assert.strictEqual(text.split("\n").length, 7, "a newline in a field makes no line of its own")
    assert.deepStrictEqual(controlBytes(text), [])
    assert.deepStrictEqual(controlBytes(statusTable([report], now)), [])
  })

  it.scoped("the waiting screen on a colour terminal writes no byte of the server's escapes", () =>
    Effect.gen(function* () {
      const capture = yield* TestTerminal.capture(tty)
      const renderer = yield* Effect.provide(makeLoginRenderer, capture.layer)
      yield* renderer.onEvent(LoginEvent.Retrying({ detail: hostile.detail, delay: Duration.seconds(1) }))
      const deadline = DateTime.addDuration(yield* DateTime.now, Duration.minutes(15))
      yield* renderer.onEvent(LoginEvent.CodeIssued({ code: hostileCode, deadline }))
      yield* renderer.onEvent(LoginEvent.Waiting({ attempt: 1, nextPollIn: Duration.seconds(5) }))
      yield* renderer.onEvent(LoginEvent.Retrying({ detail: hostile.detail, delay: Duration.seconds(5) }))
      yield* TestClock.adjust("1 second")
      yield* renderer.onEvent(LoginEvent.Approved())
      yield* renderer.onEvent(LoginEvent.Retrying({ detail: hostile.detail, delay: Duration.seconds(1) }))
      const writes = yield* capture.writes
      assert.include(yield* capture.text("stdout"), "ABCD\\x1b[2J")
      assert.include(yield* capture.text("stderr"), "HTTP 503: \\x1b[31mdown")
      for (const write of writes) assert.deepStrictEqual(controlBytes(write.text), [], JSON.stringify(write))
    })
  )
})
