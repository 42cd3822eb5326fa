// An esbuild plugin that makes a group of ESM modules load when first used instead of when the bundle starts.
//
// An import of one of them from outside the group resolves to a stand-in: a CommonJS module whose exports are
// getters that require() the real module and read its export. In a CommonJS bundle esbuild turns that require() of an
// ESM module into a call of the module's init function (its `__esm` wrapper), which is synchronous, so a getter can
// return the real value. The importer sees the stand-in through esbuild's `__toESM`, whose properties are getters
// reading the stand-in's at each access (live bindings), so `Ns.select(...)` loads the real module on its first call.
// The modules of the group import each other as they are: once one loads, it brings the rest of what it needs.
//
// Every export goes through a getter, functions and values alike, and the getter returns the real module's own value:
// what an importer reads is what it would have read, only later. A value it reads while it loads (a type id, a
// constant) simply loads the real module then, which is correct, and saves nothing: test/bundle.lazyPrompt.test.ts
// checks that the CLI's help loads none of the group. The names come from importing the real module at build time.
import { relative } from "node:path"
import { pathToFileURL } from "node:url"

const namespace = "lazy-module"

/**
 * @param {{ readonly name: string, readonly specifiers: RegExp, readonly modules: RegExp }} group `specifiers` picks
 *   the import paths to look at (an esbuild filter, so it must be cheap), `modules` the resolved paths of the group.
 */
export const lazyModules = ({ name, specifiers, modules }) => ({
  name: `lazy-modules-${name}`,
  setup(build) {
    const workingDir = build.initialOptions.absWorkingDir ?? process.cwd()
    build.onResolve({ filter: specifiers }, async (args) => {
      // the stand-in's own require() and the resolve below reach the real module
      if (args.pluginData?.lazyModules === true || args.namespace === namespace) return undefined
      if (args.kind !== "import-statement" || modules.test(args.importer)) return undefined
      const real = await build.resolve(args.path, {
        kind: args.kind,
        importer: args.importer,
        resolveDir: args.resolveDir,
        pluginData: { lazyModules: true }
      })
      if (real.errors.length > 0 || real.external || !modules.test(real.path)) return undefined
      // named relative to the working directory in the metafile (dist/bundle-inputs.json), as files are
      return { path: relative(workingDir, real.path), namespace, pluginData: { real: real.path } }
    })

    build.onLoad({ filter: /.*/, namespace }, async (args) => {
      const path = args.pluginData.real
      const names = Object.keys(await import(pathToFileURL(path).href))
      return { contents: standIn(args.path, path, names), loader: "js", resolveDir: workingDir }
    })
  }
})

/**
 * Node's built-in modules `builtins` (`node:crypto`, ...) loaded on first use by the modules `importers` picks (their
 * resolved paths): the same stand-in, whose require() of the built-in stays a require() of Node's. For a package
 * that imports a built-in at its top for a function few runs call (@effect/platform-node's file system imports
 * node:crypto for its temp file names only: loading it is ~2.4 ms of every start).
 *
 * @param {{ readonly name: string, readonly builtins: ReadonlyArray<string>, readonly importers: RegExp }} group
 */
export const lazyBuiltins = ({ name, builtins, importers }) => ({
  name: `lazy-builtins-${name}`,
  setup(build) {
    const filter = new RegExp(`^(${builtins.join("|")})$`)
    const builtinNamespace = `lazy-builtin-${name}`
    build.onResolve({ filter }, (args) =>
      args.kind === "import-statement" && importers.test(args.importer)
        ? { path: args.path, namespace: builtinNamespace }
        : undefined
    )
    build.onLoad({ filter: /.*/, namespace: builtinNamespace }, async (args) => ({
      contents: standIn(args.path, args.path, Object.keys(await import(args.path))),
      loader: "js"
    }))
  }
})

/** A CommonJS module whose exports are getters reading `names` of `real`, required on the first read. */
const standIn = (what, real, names) =>
  [
    `// a stand-in for ${what}, loaded on first use (scripts/lazyModules.mjs)`,
    "let real",
    `const load = () => (real ??= require(${JSON.stringify(real)}))`,
    'Object.defineProperty(exports, "__esModule", { value: true })',
    ...[...names]
      .sort()
      .map(
        (key) =>
          `Object.defineProperty(exports, ${JSON.stringify(key)}, { enumerable: true, get: () => load()[${JSON.stringify(key)}] })`
      )
  ].join("\n")
