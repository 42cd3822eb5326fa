// Bundles bench/main.ts with esbuild and runs it (the CLI bundle must be built: npm run bench builds it first).
import { build } from "esbuild"
import { spawnSync } from "node:child_process"

await build({
  entryPoints: ["bench/main.ts"],
  outfile: "dist/bench.mjs",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: {
    js: 'import { createRequire as __dcCreateRequire } from "node:module";const require = __dcCreateRequire(import.meta.url);'
  },
  external: ["@napi-rs/keyring"],
  logLevel: "warning"
})
const run = spawnSync(process.execPath, ["dist/bench.mjs"], { stdio: "inherit" })
process.exit(run.status ?? 1)
