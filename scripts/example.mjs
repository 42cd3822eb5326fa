// Bundles examples/<name>.ts (default whoami) with esbuild, resolving "devicecode" to this package's build, and runs it.
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { nodeBundle } from "./esbuild.mjs"

const name = process.argv[2] ?? "whoami"
await build({ ...nodeBundle, entryPoints: [`examples/${name}.ts`], outfile: `dist/examples/${name}.mjs` })
const run = spawnSync(process.execPath, [`dist/examples/${name}.mjs`], { stdio: "inherit" })
process.exit(run.status ?? 1)
