// Bundles the CLI into one CommonJS file, dist/bin/devicecode.cjs, which bin/devicecode.cjs compiles with a V8 code
// cache: on Node 20 only a script (vm.Script) takes one, and esbuild splits only ESM. What only some commands need
// (the test kit, Node's HttpClient, qrcode, open, the --json schemas, the other commands) is reached through
// import(), which esbuild turns into modules evaluated on first use; @effect/cli's prompts, which only --wizard
// runs, through stand-ins that load them on first use (lazyPrompts in scripts/cliBundle.mjs).
import { build } from "esbuild"
import { appendFileSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { relative } from "node:path"
import { asciiOnly, cliBuildOptions, stamp } from "./cliBundle.mjs"

const outfile = "dist/bin/devicecode.cjs"
rmSync("dist/bin", { recursive: true, force: true })

const result = await build({ ...cliBuildOptions, outfile })

writeFileSync(outfile, stamp(asciiOnly(readFileSync(outfile, "utf8"))), "latin1")
// esbuild names a file by its real path: where node_modules is a link (a worktree sharing another's), one like
// ../x/node_modules/...; here it is node_modules/..., as anywhere else (a stand-in's too, lazy-module:node_modules/...)
const linked = `${relative(".", realpathSync("node_modules")).replaceAll("\\", "/")}/`
const named = (path) => path.replace(linked, "node_modules/")
// what went into the bundle, for test/bundle.test.ts and the licence notices below
const inputs = Object.entries(result.metafile.outputs[outfile].inputs)
  .filter(([, input]) => input.bytesInOutput > 0)
  .map(([path, input]) => [named(path), input])
writeFileSync("dist/bundle-inputs.json", JSON.stringify(inputs.map(([path]) => path).sort(), null, 1) + "\n")

// esbuild keeps only the notices written as comments in the code; most packages keep theirs in a LICENSE file, and
// their licences (MIT, ISC, BSD) ask for it to travel with copies of the code. Each bundled package's goes along.
const packages = [...new Set(inputs.map(([path]) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(path)?.[1]))]
const notices = packages
  .filter((name) => name !== undefined)
  .sort()
  .map((name) => {
    const dir = `node_modules/${name}`
    const { version, license } = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"))
    const file = readdirSync(dir).find((entry) => /^(licen[cs]e|copying)(\.|$)/i.test(entry))
    const text =
      file === undefined ? `(no licence file; package.json says ${license})` : readFileSync(`${dir}/${file}`, "utf8")
    return `${name}@${version} (${license})\n\n${text.trim()}\n`
  })
appendFileSync(
  `${outfile}.LEGAL.txt`,
  `\n\nThe licences of the packages bundled in devicecode.cjs:\n\n${notices.join("\n---\n\n")}`
)
