// Bundles the CLI into one ESM file: an unbundled Effect CLI loads ~1,000 modules and starts over a second.
import { build } from "esbuild"
import { nodeBundle } from "./esbuild.mjs"

await build({
  ...nodeBundle,
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/devicecode.mjs",
  minify: true,
  legalComments: "none"
})
