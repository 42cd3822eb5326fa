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
  // Native modules cannot be bundled; they are loaded from node_modules on first use (the keyring, the store lock).
  external: ["@napi-rs/keyring", "fs-ext"],
  logLevel: "warning"
}
