// What the CLI bundle leaves out (scripts/cliBundle.mjs): fast-check, which effect/Schema imports for arbitraries, and
// yaml/toml/ini, which @effect/cli imports for config-file options. Leaving them out is right only while nothing in
// src uses either; this checks both sides, and that a stub fails loudly if something ever calls it.
import { assert, describe, it } from "@effect/vitest"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as ConfigFileParser from "../scripts/stubs/configFileParser.mjs"

const sources = (dir: string): ReadonlyArray<string> =>
  readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? sources(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
  )

describe("the CLI bundle", () => {
  it("carries none of fast-check, pure-rand, yaml, toml, ini or undici", () => {
    const inputs: ReadonlyArray<string> = JSON.parse(readFileSync("dist/bundle-inputs.json", "utf8"))
    assert.isAbove(inputs.length, 100)
    assert.isTrue(inputs.some((input) => input.startsWith("node_modules/effect/")))
    for (const left of ["fast-check", "pure-rand", "yaml", "toml", "ini", "undici"]) {
      assert.deepStrictEqual(
        inputs.filter((input) => input.startsWith(`node_modules/${left}/`)),
        [],
        left
      )
    }
  })

  it("is right to: src makes no arbitraries and reads no config file through @effect/cli", () => {
    const uses =
      /effect\/(Arbitrary|FastCheck)|Schema\.arbitrary|@effect\/cli\/ConfigFile|(Options|Args)\.file(Parse|Schema)/
    const offenders = sources("src").filter((file) => uses.test(readFileSync(file, "utf8")))
    assert.deepStrictEqual(offenders, [])
  })

  it("has no import() left: bin/devicecode.cjs runs it with vm.Script, which has no loader for one", () => {
    const bundle = readFileSync("dist/bin/devicecode.cjs", "latin1")
    assert.deepStrictEqual(bundle.match(/\bimport\(\s*["'`][^"'`]*["'`]\s*\)/g) ?? [], [])
    // the keyring's native module, which the library imports dynamically, is required instead
    assert.include(bundle, 'require("@napi-rs/keyring")')
  })

  it("fails loudly if a left-out config-file parser is ever called", () => {
    assert.throws(() => ConfigFileParser.parse("a: 1"), /leaves out @effect\/cli's config-file parsers/)
  })
})
