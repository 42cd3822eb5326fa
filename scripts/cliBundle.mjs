// What makes the CLI bundle: shared by scripts/bundle.mjs and the tests that rebuild or restamp it.
import { createHash } from "node:crypto"
import { nodeBundle } from "./esbuild.mjs"
import { lazyBuiltins, lazyModules } from "./lazyModules.mjs"

/** Packages the CLI never runs, replaced by stubs (test/bundle.test.ts checks nothing reaches them). */
export const leftOut = {
  "fast-check": "./scripts/stubs/fastCheck.mjs",
  yaml: "./scripts/stubs/configFileParser.mjs",
  toml: "./scripts/stubs/configFileParser.mjs",
  ini: "./scripts/stubs/configFileParser.mjs"
}

// The native modules stay outside the bundle (nodeBundle.external). A script run by vm.Script has no loader for
// import(), so a dynamic import of one (Keyring's) becomes a require() through a one-line module of the bundle.
const requireNativeModules = {
  name: "require-native-modules",
  setup(build) {
    const native = new RegExp(`^(${nodeBundle.external.map((name) => name.replace("/", "\\/")).join("|")})$`)
    build.onResolve({ filter: native }, (args) =>
      args.kind === "dynamic-import" ? { path: args.path, namespace: "native" } : { path: args.path, external: true }
    )
    build.onLoad({ filter: /.*/, namespace: "native" }, (args) => ({
      contents: `module.exports = require(${JSON.stringify(args.path)})`,
      loader: "js"
    }))
  }
}

/**
 * @effect/cli's prompts (Prompt.js, internal/prompt.js and internal/prompt/*.js), which only --wizard runs: the
 * modules that build commands, options and arguments import them, for functions they call only when asked to prompt
 * (and isPrompt, called when the help shows an option with a fallback, which ours have not).
 */
export const lazyPrompts = lazyModules({
  name: "effect-cli-prompts",
  specifiers: /prompt/i,
  modules: /[\\/]@effect[\\/]cli[\\/]dist[\\/]esm[\\/](Prompt\.js|internal[\\/]prompt(\.js$|[\\/]))/
})

/**
 * The built-ins @effect/platform-node's file system imports at its top, node:crypto (~2.4 ms to load) and node:os, for
 * its temp files only, which the CLI never makes.
 */
export const lazyFileSystemBuiltins = lazyBuiltins({
  name: "file-system",
  builtins: ["node:crypto", "node:os"],
  importers: /[\\/]@effect[\\/]platform-node-shared[\\/]dist[\\/]esm[\\/]internal[\\/]fileSystem\.js$/
})

/**
 * esbuild's options for the CLI bundle, but `outfile` (scripts/bundle.mjs writes dist/bin/devicecode.cjs; a test may
 * build a variant elsewhere, with plugins of its own added to `plugins`). scripts/bundle.mjs then passes the output
 * through {@link asciiOnly} and {@link stamp}.
 */
export const cliBuildOptions = {
  ...nodeBundle,
  format: "cjs",
  // the one place that needs a file URL of its own (flock.ts's createRequire) gets the bundle's
  banner: { js: 'var __dcImportMetaUrl=require("node:url").pathToFileURL(__filename).href;' },
  define: { "import.meta.url": "__dcImportMetaUrl" },
  entryPoints: ["src/cli/main.ts"],
  alias: leftOut,
  plugins: [requireNativeModules, lazyPrompts, lazyFileSystemBuiltins],
  minify: true,
  // the licence notices of the bundled packages, in <outfile>.LEGAL.txt beside it
  legalComments: "linked",
  metafile: true
}

/**
 * The bundle's text with a first line naming the SHA-256 of the rest. bin/devicecode.cjs names its code cache files
 * after it: V8 checks only a cached script's length, so a rebuilt bundle of the same length would run stale code.
 */
export const stamp = (body) => `//devicecode-bundle ${createHash("sha256").update(body).digest("hex")}\n${body}`

/**
 * `body` with each non-ASCII character written as a \u escape, which means the same in strings, templates, regular
 * expressions and identifiers: bin/devicecode.cjs reads the bundle as latin1, faster than utf8 and exact for ASCII.
 * esbuild escapes strings itself but leaves regular expression literals as they are (open's has typographic quotes).
 */
export const asciiOnly = (body) => {
  if (/\\[^\x00-\x7f]/.test(body)) throw new Error("the bundle escapes a non-ASCII character; asciiOnly cannot")
  return body.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`)
}
