// What `npm pack` would ship: the library (JS and types), the CLI bundle, its loader and licence notices, LICENSE,
// README and package.json; nothing the build leaves for development (examples, bench, the unbundled CLI, inputs).
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { mkdirSync, rmSync, writeFileSync } from "node:fs"

const shipped = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^bin\/devicecode\.cjs$/,
  /^dist\/bin\/devicecode\.cjs(\.LEGAL\.txt)?$/,
  /^dist\/(?!cli\/|examples\/|bin\/)[\w/.-]+\.(js|d\.ts)$/
]

describe("the npm package", () => {
  it("ships only the library, the CLI bundle and their types, with LICENSE", () => {
    // a bundle of the kind `npm run example` leaves in dist/: it must stay out
    mkdirSync("dist/examples", { recursive: true })
    writeFileSync("dist/examples/probe.mjs", "export {}\n")
    try {
      const [pack] = JSON.parse(
        execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" })
      ) as ReadonlyArray<{ readonly files: ReadonlyArray<{ readonly path: string }> }>
      const files = pack!.files.map((file) => file.path)
      assert.deepStrictEqual(
        files.filter((file) => !shipped.some((pattern) => pattern.test(file))),
        [],
        "unexpected files"
      )
      for (const needed of [
        "LICENSE",
        "README.md",
        "bin/devicecode.cjs",
        "dist/bin/devicecode.cjs",
        "dist/bin/devicecode.cjs.LEGAL.txt",
        "dist/index.js",
        "dist/index.d.ts",
        "dist/testing/index.js",
        "dist/testing/index.d.ts"
      ]) {
        assert.include(files, needed)
      }
      assert.isFalse(files.some((file) => file.startsWith("src/") || file.endsWith(".map") || file.endsWith(".mjs")))
    } finally {
      rmSync("dist/examples/probe.mjs", { force: true })
    }
  })
})
