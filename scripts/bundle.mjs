// Bundles the CLI into dist/bin/: an unbundled Effect CLI loads ~1,000 modules and starts over a second. The test kit
// (demo, issuer) and Node's HttpClient are dynamic imports, split into chunks of their own, so `status` and `token`
// never load them.
import { build } from "esbuild"
import { rmSync } from "node:fs"
import { nodeBundle } from "./esbuild.mjs"

// chunk names carry a content hash: without this, every build would leave the last build's chunks behind
rmSync("dist/bin", { recursive: true, force: true })

await build({
  ...nodeBundle,
  entryPoints: { devicecode: "src/cli/main.ts" },
  outdir: "dist/bin",
  splitting: true,
  chunkNames: "chunks/[name]-[hash]",
  outExtension: { ".js": ".mjs" },
  minify: true,
  legalComments: "none"
})
