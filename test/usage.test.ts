import { assert, describe, it } from "@effect/vitest"
import { Option } from "effect"
import { closest, editDistance, findUsageProblem, type FlagSpec } from "../src/cli/usage.js"

const flag = (name: string, value?: string): FlagSpec => ({ names: [name], value: Option.fromNullable(value) })

const commands = new Map<string, ReadonlyArray<FlagSpec>>([
  ["login", [flag("--issuer", "URL"), flag("--dialect", "codex | rfc8628"), flag("--json"), flag("--port", "PORT")]],
  ["status", [flag("--all"), flag("--profile", "NAME")]]
])

const problem = (...args: ReadonlyArray<string>) =>
  Option.getOrUndefined(Option.map(findUsageProblem(args, commands), (found) => found.message))

describe("usage errors found from the commands' definitions", () => {
  it("edit distance and the closest name within 2", () => {
    assert.strictEqual(editDistance("logn", "login"), 1)
    assert.strictEqual(editDistance("", "abc"), 3)
    assert.strictEqual(editDistance("status", "status"), 0)
    assert.deepStrictEqual(closest("stauts", ["login", "status"]), Option.some("status"))
    assert.deepStrictEqual(closest("xyz", ["login", "status"]), Option.none())
  })

  it("an unknown command or flag, with the closest one", () => {
    assert.strictEqual(problem("logn"), "unknown command 'logn'; did you mean 'login'?")
    assert.strictEqual(problem("frobnicate"), "unknown command 'frobnicate'")
    assert.strictEqual(problem("login", "--isuer", "x"), "unknown flag '--isuer' for 'login'; did you mean '--issuer'?")
    assert.strictEqual(problem("--bogus"), "unknown flag '--bogus' before a command")
  })

  it("a value flag without its value says what it takes; a choice outside the list; a flag twice", () => {
    assert.strictEqual(problem("login", "--issuer"), "--issuer needs a value: a URL")
    assert.strictEqual(problem("login", "--issuer", "--json"), "--issuer needs a value: a URL")
    assert.strictEqual(problem("login", "--dialect"), "--dialect needs a value: one of codex, rfc8628")
    assert.strictEqual(problem("login", "--dialect", "foo"), "--dialect must be one of codex, rfc8628, not 'foo'")
    assert.strictEqual(problem("login", "--json", "--json"), "--json was given more than once")
    assert.strictEqual(problem("status", "--profile"), "--profile needs a value: a name")
  })

  it("leaves the rest to @effect/cli: valid argv, negative numbers, --flag=value, built-ins, words after --", () => {
    for (const args of [
      ["login", "--issuer", "https://x.test", "--json"],
      ["login", "--port", "-1"],
      ["login", "--issuer=https://x.test"],
      ["login", "--help", "--bogus"],
      ["--version"],
      ["status", "--", "--bogus"],
      []
    ]) {
      assert.isUndefined(problem(...args), args.join(" "))
    }
  })
})
