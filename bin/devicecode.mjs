#!/usr/bin/env node
// Runs the bundled CLI that `npm ci` (prepare) or `npm run build` makes.
try {
  await import("../dist/bin/devicecode.mjs")
} catch (error) {
  if (error?.code === "ERR_MODULE_NOT_FOUND" && String(error.message).includes("devicecode.mjs")) {
    console.error("devicecode: the CLI is not built yet; run `npm run build` in the package directory")
    process.exit(1)
  }
  throw error
}
