// What makes the CLI bundle: shared by scripts/bundle.mjs and the tests that rebuild or restamp it.
import { createHash } from "node:crypto"

/** Packages the CLI never runs, replaced by stubs (test/bundle.test.ts checks nothing reaches them). */
export const leftOut = {
  "fast-check": "./scripts/stubs/fastCheck.mjs",
  yaml: "./scripts/stubs/configFileParser.mjs",
  toml: "./scripts/stubs/configFileParser.mjs",
  ini: "./scripts/stubs/configFileParser.mjs"
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
