// Which modules a run of the CLI bundle evaluates: a variant of the bundle, built with the same options
// (cliBuildOptions) plus a plugin that prepends to each module of interest a line writing its name to stderr.
import { Effect } from "effect"
import { build, type Plugin } from "esbuild"
import { readFileSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { cliBuildOptions } from "../../scripts/cliBundle.mjs"
import { runCli } from "./cli.js"
import { tempDir } from "./tmp.js"

const root = fileURLToPath(new URL("../..", import.meta.url))
const mark = "devicecode-test: evaluated "

/**
 * A plugin that prepends to each module whose path `filter` matches a line writing `mark` and its name (the path
 * after `@effect/cli/dist/esm/`, or after node_modules/) to stderr when it is evaluated.
 */
export const marking = (filter: RegExp): Plugin => ({
  name: "mark-modules",
  setup(build) {
    build.onLoad({ filter, namespace: "file" }, (args) => {
      const name = args.path
        .replaceAll("\\", "/")
        .replace(/^.*\/@effect\/cli\/dist\/esm\//, "")
        .replace(/^.*\/node_modules\//, "")
      return {
        contents: `process.stderr.write(${JSON.stringify(`${mark}${name}\n`)});\n${readFileSync(args.path, "utf8")}`,
        loader: "js",
        resolveDir: dirname(args.path)
      }
    })
  }
})

/** The CLI bundle with `plugins` instead of cliBuildOptions', in a temp folder; its path. */
export const variant = (plugins: ReadonlyArray<Plugin>) =>
  Effect.gen(function* () {
    const outfile = join(yield* tempDir, "devicecode.cjs")
    yield* Effect.promise(() =>
      build({ ...cliBuildOptions, plugins: [...plugins], absWorkingDir: root, outfile, logLevel: "error" })
    )
    return outfile
  })

/** The marked modules a run of the variant `bin` evaluated, how it ended, and its stderr without the marks. */
export const evaluated = (bin: string, args: ReadonlyArray<string>, home: string, env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const result = yield* runCli(args, { bin, env: { CODEX_HOME: home, ...env }, fastPathCheck: false })
    const lines = result.stderr.split("\n")
    return {
      result,
      modules: lines.filter((line) => line.startsWith(mark)).map((line) => line.slice(mark.length)),
      stderr: lines.filter((line) => !line.startsWith(mark)).join("\n")
    }
  })
