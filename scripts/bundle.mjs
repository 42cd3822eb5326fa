// Bundles the CLI into one ESM file: an unbundled Effect CLI loads ~1,000 modules and starts over a second.
import { build } from "esbuild"

await build({
  entryPoints: ["src/cli/main.ts"],
  outfile: "dist/devicecode.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  minify: true,
  legalComments: "none",
  // Some of Effect's dependencies call require(); ESM bundles have none of their own.
  banner: {
    js: 'import { createRequire as __dcCreateRequire } from "node:module";const require = __dcCreateRequire(import.meta.url);'
  },
  external: ["@napi-rs/keyring"],
  logLevel: "warning"
})
