// Bundles the CLI into one CommonJS file, dist/bin/devicecode.cjs, which bin/devicecode.cjs compiles with a V8 code
// cache: on Node 20 only a script (vm.Script) takes one, and esbuild splits only ESM. What only some commands need
// (the test kit, Node's HttpClient, qrcode, open, the --json schemas, the other commands) is reached through
// import(), which esbuild turns into modules evaluated on first use.
import { build } from "esbuild"
import { readFileSync, rmSync, writeFileSync } from "node:fs"
import { asciiOnly, leftOut, stamp } from "./cliBundle.mjs"
import { nodeBundle } from "./esbuild.mjs"

const outfile = "dist/bin/devicecode.cjs"
rmSync("dist/bin", { recursive: true, force: true })

const result = await build({
  ...nodeBundle,
  format: "cjs",
  // the one place that needs a file URL of its own (flock.ts's createRequire) gets the bundle's
  banner: { js: 'var __dcImportMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__dcImportMetaUrl" },
  entryPoints: ["src/cli/main.ts"],
  outfile,
  alias: leftOut,
  minify: true,
  legalComments: "none",
  metafile: true
})

writeFileSync(outfile, stamp(asciiOnly(readFileSync(outfile, "utf8"))), "latin1")
// what went into the bundle, for test/bundle.test.ts
const inputs = Object.entries(result.metafile.outputs[outfile].inputs).filter(([, input]) => input.bytesInOutput > 0)
writeFileSync("dist/bundle-inputs.json", JSON.stringify(inputs.map(([path]) => path).sort(), null, 1) + "\n")
