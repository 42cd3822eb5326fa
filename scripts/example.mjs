// Bundles examples/<name>.ts (default whoami) with esbuild, resolving "devicecode" to this package's build, and runs it.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"

const name = process.argv[2] ?? "whoami"
await build({
  entryPoints: [`examples/${name}.ts`],
  outfile: `dist/examples/${name}.mjs`,
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  banner: {
    js: 'import { createRequire as __dcCreateRequire } from "node:module";const require = __dcCreateRequire(import.meta.url);'
  },
  logLevel: "warning"
})
const run = spawnSync(process.execPath, [`dist/examples/${name}.mjs`], { stdio: "inherit" })
process.exit(run.status ?? 1)
