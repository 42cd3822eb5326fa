// @effect/cli's prompt modules (Prompt.js, internal/prompt.js, internal/prompt/*.js) run only for --wizard, so the CLI
// bundle loads them on first use (lazyPrompts, scripts/lazyModules.mjs). Whether a module was evaluated is seen in a
// variant of the bundle, built with the same options (cliBuildOptions) plus a plugin that prepends a line to each
// prompt module writing its name to stderr; the same variant without lazyPrompts shows that the lines work. --wizard,
// which does run them, still asks its questions in a real terminal: test/e2e.tmux.test.ts.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { cliBuildOptions, lazyPrompts } from "../scripts/cliBundle.mjs"
import { evaluated, marking as markingOf, variant } from "./support/bundleVariant.js"
import { tempDir } from "./support/tmp.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const promptModule =
  /[\\/]@effect[\\/]cli[\\/]dist[\\/]esm[\\/](Prompt|internal[\\/]prompt|internal[\\/]prompt[\\/][\w-]+)\.js$/
const marking = markingOf(promptModule)

describe("the CLI bundle's prompt modules", () => {
  it.scoped("are evaluated by none of --help, login --help and status", () =>
    Effect.gen(function* () {
      assert.include(cliBuildOptions.plugins, lazyPrompts)
      const bin = yield* variant([...cliBuildOptions.plugins, marking])
      const home = yield* tempDir
      const help = yield* evaluated(bin, ["--help"], home)
      assert.deepStrictEqual(help.modules, [])
      assert.strictEqual(help.result.code, 0)
      assert.include(help.result.stdout, "USAGE")
      const loginHelp = yield* evaluated(bin, ["login", "--help"], home)
      assert.deepStrictEqual(loginHelp.modules, [])
      assert.strictEqual(loginHelp.result.code, 0)
      assert.include(loginHelp.result.stdout, "--issuer")
      const status = yield* evaluated(bin, ["status"], home)
      assert.deepStrictEqual(status.modules, [])
      assert.strictEqual(status.result.code, 1)
      assert.include(status.result.stdout + status.stderr, "Not logged in")
    })
  )

  it.scoped("are evaluated by --help without lazyPrompts: the marks show an evaluation", () =>
    Effect.gen(function* () {
      const bin = yield* variant([...cliBuildOptions.plugins.filter((plugin) => plugin !== lazyPrompts), marking])
      const help = yield* evaluated(bin, ["--help"], yield* tempDir)
      assert.strictEqual(help.result.code, 0)
      assert.includeMembers(help.modules, [
        "internal/prompt.js",
        "internal/prompt/select.js",
        "internal/prompt/toggle.js"
      ])
    })
  )

  it("are behind stand-ins in the built bundle (dist/bundle-inputs.json)", () => {
    const inputs: ReadonlyArray<string> = JSON.parse(readFileSync(join(root, "dist/bundle-inputs.json"), "utf8"))
    const standIns = inputs
      .filter((input) => input.startsWith("lazy-module:"))
      .map((input) => input.replace(/^.*\//, ""))
    assert.includeMembers(standIns, ["prompt.js", "select.js", "toggle.js", "number.js", "text.js"])
    // the real modules are in the bundle too, for --wizard
    assert.isTrue(
      inputs.some((input) => /(^|\/)node_modules\/@effect\/cli\/dist\/esm\/internal\/prompt\/select\.js$/.test(input))
    )
  })
})
