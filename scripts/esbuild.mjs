// The esbuild settings every bundle of this package shares: one ESM file for Node 20 with Effect bundled in.
export const nodeBundle = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  // Some of Effect's dependencies call require(); ESM bundles have none of their own.
  banner: {
    js: 'import { createRequire as __dcCreateRequire } from "node:module";const require = __dcCreateRequire(import.meta.url);'
  },
  // A native module cannot be bundled; it is loaded from node_modules when the keyring is used.
  external: ["@napi-rs/keyring"],
  logLevel: "warning"
}
