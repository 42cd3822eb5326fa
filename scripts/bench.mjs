// Bundles bench/main.ts with esbuild and runs it (the CLI bundle must be built: npm run bench builds it first).
import { build } from "esbuild"
import { spawnSync } from "node:child_process"
import { nodeBundle } from "./esbuild.mjs"

await build({ ...nodeBundle, entryPoints: ["bench/main.ts"], outfile: "dist/bench.mjs" })
const run = spawnSync(process.execPath, ["dist/bench.mjs"], { stdio: "inherit" })
process.exit(run.status ?? 1)
