import { assert, describe, it } from "@effect/vitest"
import { escapeChar, escapeJsonText, isSafe, sanitize } from "../src/domain/Sanitize.js"

/** Whether `text` holds a byte a terminal acts on: C0 (but `\n`), DEL or C1. */
const hasControl = (text: string) => [...text].some((c) => (c < " " && c !== "\n") || (c >= "\x7f" && c <= "\x9f"))

describe("sanitize", () => {
  it("leaves ordinary text alone, Unicode included", () => {
    for (const text of ["dev@example.com", "ABCD-EFGHJ", "https://auth.openai.com/codex/device", "Zoë ✓ 日本"]) {
      assert.strictEqual(sanitize(text), text)
      assert.isTrue(isSafe(text))
    }
  })

  it("escapes a CSI sequence: ESC[2J clears nothing", () => {
    assert.strictEqual(sanitize("ABCD\x1b[2J"), "ABCD\\x1b[2J")
    assert.strictEqual(sanitize("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m")
  })

  it("escapes an OSC title sequence ended by BEL or ST", () => {
    assert.strictEqual(sanitize("dev@x.com\x1b]0;pwn\x07"), "dev@x.com\\x1b]0;pwn\\x07")
    assert.strictEqual(sanitize("\x1b]52;c;aGk=\x1b\\"), "\\x1b]52;c;aGk=\\x1b\\")
  })

  it("escapes C1 controls (U+009B is CSI by itself) and DEL", () => {
    assert.strictEqual(sanitize("a\u009b2Jb"), "a\\u009b2Jb")
    assert.strictEqual(sanitize("\u0085\u008d\u009d"), "\\u0085\\u008d\\u009d")
    assert.strictEqual(sanitize("x\x7fy"), "x\\x7fy")
  })

  it("escapes carriage return, backspace, tab and NUL; newline only outside multi-line text", () => {
    assert.strictEqual(sanitize("ok\rSuccessfully logged in"), "ok\\rSuccessfully logged in")
    assert.strictEqual(sanitize("a\bb\tc\x00d"), "a\\x08b\\tc\\x00d")
    assert.strictEqual(sanitize("one\ntwo"), "one\\ntwo")
    assert.strictEqual(sanitize("one\ntwo\r\x1b[K", { multiline: true }), "one\ntwo\\r\\x1b[K")
  })

  it("neutralises bidi overrides, isolates and line separators", () => {
    assert.strictEqual(sanitize("evil\u202egnp.exe"), "evil\\u202egnp.exe")
    assert.strictEqual(sanitize("\u2066a\u2069\u200f\u061c"), "\\u2066a\\u2069\\u200f\\u061c")
    assert.strictEqual(sanitize("a\u2028b\u2029c"), "a\\u2028b\\u2029c")
  })

  it("is idempotent, and what it returns holds no control byte", () => {
    const hostile = "\x1b[2J\x1b]0;pwn\x07\u009b1m\u202e\r\n\x00\x7f"
    const once = sanitize(hostile)
    assert.strictEqual(sanitize(once), once)
    assert.isFalse(hasControl(once))
    assert.isTrue(isSafe(once))
    assert.isFalse(isSafe(hostile))
    assert.isTrue(isSafe("a\nb", { multiline: true }))
  })

  it("shows each character as an escape a person can read", () => {
    assert.strictEqual(escapeChar("\x1b"), "\\x1b")
    assert.strictEqual(escapeChar("\n"), "\\n")
    assert.strictEqual(escapeChar("\u009b"), "\\u009b")
  })
})

describe("escapeJsonText", () => {
  it("escapes what JSON.stringify leaves raw; the JSON value is unchanged", () => {
    const value = { user_code: "AB\u009b2J\u202e\x7fCD\x1b[2J", email: "dev@example.com" }
    const text = escapeJsonText(JSON.stringify(value))
    assert.isFalse(hasControl(text))
    assert.notInclude(text, "\u202e")
    assert.deepStrictEqual(JSON.parse(text), value)
    assert.include(text, "\\u001b[2J")
    assert.include(text, "\\u009b2J")
  })
})
