// What `npm pack` would ship: the library (JS and types), the CLI bundle, its loader and licence notices, LICENSE,
// README, the docs and the example the README links to, and package.json; nothing the build leaves for development
// (bench, the unbundled CLI, inputs). Its dependencies are what the library and its test kit import and the native
// modules the CLI bundle leaves out: a package only the bundle uses is in the bundle, so a devDependency (a library
// user does not install @effect/cli, open or qrcode for nothing). bin/devicecode.cjs is committed executable.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { join, resolve, sep } from "node:path"
import { pack, readPackageJson, root, unpack, type PackageJson } from "./support/pack.js"
import { testTmp } from "./support/tmp.js"

const shipped = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^bin\/devicecode\.cjs$/,
  /^dist\/bin\/devicecode\.cjs(\.LEGAL\.txt)?$/,
  /^dist\/(?!cli\/|examples\/|bin\/)[\w/.-]+\.(js|d\.ts)$/,
  /^docs\/[\w-]+\.md$/,
  /^examples\/whoami\.ts$/
]

/** The package a module specifier names (`@scope/name/sub` → `@scope/name`), or undefined for a Node builtin. */
const packageOf = (specifier: string): string | undefined => {
  if (specifier.startsWith("node:") || builtinModules.includes(specifier.split("/")[0]!)) return undefined
  return specifier
    .split("/")
    .slice(0, specifier.startsWith("@") ? 2 : 1)
    .join("/")
}

/** The packages the JS files under `dir` import or require (static and dynamic), relative paths aside. */
const importedBy = (dir: string): ReadonlySet<string> => {
  const names = new Set<string>()
  const visit = (path: string): void => {
    for (const entry of readdirSync(path, { withFileTypes: true })) {
      const file = join(path, entry.name)
      if (entry.isDirectory()) visit(file)
      else if (entry.name.endsWith(".js")) {
        const text = readFileSync(file, "utf8")
        const specifiers = /(?:\bfrom\s*|^\s*import\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([@\w][\w@/.:-]*)["']/gm
        for (const match of text.matchAll(specifiers)) {
          const name = packageOf(match[1]!)
          if (name !== undefined) names.add(name)
        }
      }
    }
  }
  visit(dir)
  return names
}

const keysOf = (...records: ReadonlyArray<Readonly<Record<string, string>> | undefined>): ReadonlySet<string> =>
  new Set(records.flatMap((record) => Object.keys(record ?? {})))

/** The relative link targets in a markdown text (inline, reference definitions, HTML href/src), code aside. */
const relativeLinks = (markdown: string): ReadonlyArray<string> => {
  const text = markdown.replace(/^(```|~~~)[^\n]*\n[\s\S]*?^\1[^\n]*$/gm, "").replace(/`[^`\n]*`/g, "")
  const targets = [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+["'(][^)]*)?\)/g)].map((match) => match[1]!),
    ...[...text.matchAll(/^ {0,3}\[[^\]]+\]:\s*<?([^\s>]+)>?/gm)].map((match) => match[1]!),
    ...[...text.matchAll(/\b(?:href|src)\s*=\s*["']([^"']+)["']/g)].map((match) => match[1]!)
  ]
  return targets.filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target) && !target.startsWith("#"))
}

describe("the npm package", () => {
  let dir = ""
  let unpacked = ""
  let packed: PackageJson = { name: "" }
  beforeAll(() => {
    dir = mkdtempSync(join(testTmp, "devicecode-test-pack-"))
    unpacked = unpack(pack(join(dir, "pack")), join(dir, "package"))
    packed = readPackageJson(unpacked)
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it("ships only the library, the CLI bundle and their types, with LICENSE, the docs and the example", () => {
    // a bundle of the kind `npm run example` leaves in dist/: it must stay out
    mkdirSync("dist/examples", { recursive: true })
    writeFileSync("dist/examples/probe.mjs", "export {}\n")
    try {
      const [result] = JSON.parse(
        execFileSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { encoding: "utf8" })
      ) as ReadonlyArray<{ readonly files: ReadonlyArray<{ readonly path: string }> }>
      const files = result!.files.map((file) => file.path)
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
        "dist/testing/index.d.ts",
        "docs/cli.md",
        "docs/library.md",
        "examples/whoami.ts"
      ]) {
        assert.include(files, needed)
      }
      assert.isFalse(files.some((file) => file.startsWith("src/") || file.endsWith(".map") || file.endsWith(".mjs")))
    } finally {
      rmSync("dist/examples/probe.mjs", { force: true })
    }
  })

  it("depends on what the library and its test kit import and on the native modules, not on what only the CLI bundle uses", async () => {
    const runtime = keysOf(packed.dependencies, packed.optionalDependencies)
    // what dist/index.js, dist/testing/index.js and every module they reach import: without it, no import works
    // (dist/bin/devicecode.cjs, the bundle, is no .js file)
    const library = importedBy(join(unpacked, "dist"))
    assert.includeMembers([...library], ["effect", "@effect/platform", "@effect/platform-node", "smol-toml"])
    assert.deepStrictEqual(
      [...library].filter((name) => !runtime.has(name)),
      [],
      "imported by the library but not a dependency"
    )

    // the packages the CLI bundle carries that the package itself names, and the library does not import
    const inputs: ReadonlyArray<string> = JSON.parse(readFileSync(join(root, "dist/bundle-inputs.json"), "utf8"))
    const bundled = new Set(inputs.flatMap((input) => /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input)?.[1] ?? []))
    const direct = keysOf(packed.dependencies, packed.devDependencies, packed.optionalDependencies)
    const bundleOnly = [...bundled].filter((name) => direct.has(name) && !library.has(name)).sort()
    assert.includeMembers(bundleOnly, ["@effect/cli", "open", "qrcode"])
    for (const name of bundleOnly) {
      assert.notProperty(packed.dependencies ?? {}, name, `${name} is bundled: a devDependency`)
      assert.notProperty(packed.optionalDependencies ?? {}, name, `${name} is bundled: a devDependency`)
      assert.property(packed.devDependencies ?? {}, name, `${name}: the bundle is built from it`)
    }

    // what the bundle still loads from node_modules when it runs: the native modules it leaves out
    const { nodeBundle } = (await import(new URL("../scripts/esbuild.mjs", import.meta.url).href)) as {
      readonly nodeBundle: { readonly external: ReadonlyArray<string> }
    }
    assert.includeMembers([...nodeBundle.external], ["@napi-rs/keyring"])
    for (const name of nodeBundle.external) assert.isTrue(runtime.has(name), `${name} is left out of the bundle`)
    const bundle = readFileSync(join(unpacked, "dist/bin/devicecode.cjs"), "latin1")
    const required = new Set(
      [...bundle.matchAll(/\brequire\(\s*["']([@\w][\w@/.:-]*)["']\s*\)/g)].flatMap(
        (match) => packageOf(match[1]!) ?? []
      )
    )
    // ws tries these optional native add-ons and goes without them
    for (const optional of ["bufferutil", "utf-8-validate"]) required.delete(optional)
    assert.deepStrictEqual(
      [...required].filter((name) => !runtime.has(name)),
      [],
      "required by the CLI bundle at run time but not a dependency"
    )
  })

  it("README.md's relative links all lead to a file in the package", () => {
    const readme = readFileSync(join(unpacked, "README.md"), "utf8")
    const links = relativeLinks(readme)
    assert.includeMembers([...links], ["docs/cli.md", "examples/whoami.ts"])
    const broken = links.filter((link) => {
      const path = resolve(unpacked, decodeURIComponent(link.replace(/[?#].*$/, "")))
      const inside = path === unpacked || path.startsWith(unpacked + sep)
      return !inside || !existsSync(path) || !statSync(path).isFile()
    })
    assert.deepStrictEqual(broken, [], "links to files not in the package")
  })
})

const inGit =
  spawnSync("git", ["rev-parse", "--is-inside-work-tree"], { cwd: root, encoding: "utf8" }).stdout === "true\n"

describe("bin/devicecode.cjs", () => {
  it.skipIf(!inGit)(
    inGit ? "is committed executable (mode 100755)" : "is committed executable (skipped: not a git checkout)",
    () => {
      const entry = execFileSync("git", ["ls-files", "-s", "bin/devicecode.cjs"], { cwd: root, encoding: "utf8" })
      assert.match(entry, /^100755 [0-9a-f]+ 0\tbin\/devicecode\.cjs\n$/, `git ls-files -s: ${entry}`)
    }
  )
})
