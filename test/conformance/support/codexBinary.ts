import { assert, describe, it } from "@effect/vitest"
import { spawnSync } from "node:child_process"
import { accessSync, constants, existsSync, readdirSync } from "node:fs"
import { homedir } from "node:os"
import { join } from "node:path"

/** The codex versions the suite compares against: `CODEX_VERSIONS` (comma-separated), else these two. */
export const codexVersions: ReadonlyArray<string> = (process.env.CODEX_VERSIONS ?? "0.169.0,0.171.0")
  .split(",")
  .map((version) => version.trim())
  .filter((version) => version !== "")

/** Where each version is installed, one npm prefix per version: `DEVICECODE_CODEX_CACHE`, else ~/.cache/devicecode-codex. */
export const codexCache: string = process.env.DEVICECODE_CODEX_CACHE ?? join(homedir(), ".cache", "devicecode-codex")

const isExecutable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

const entries = (dir: string): ReadonlyArray<string> => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

/** The native binary npm put under `<cache>/<version>`: node_modules/@openai/codex-<platform>/vendor/<triple>/bin/codex. */
export const findCodex = (version: string): string | undefined => {
  const scope = join(codexCache, version, "node_modules", "@openai")
  for (const pkg of entries(scope).filter((name) => name.startsWith("codex-"))) {
    for (const triple of entries(join(scope, pkg, "vendor"))) {
      const binary = join(scope, pkg, "vendor", triple, "bin", "codex")
      if (existsSync(binary) && isExecutable(binary)) return binary
    }
  }
  return undefined
}

/** npm's own explanation, without the pointer to its log file. */
const npmError = (stderr: string): string =>
  stderr
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line !== "" && !/A complete log of this run|_logs\//.test(line))
    .slice(0, 2)
    .join(" ")

/** `npm install @openai/codex@<version>` into its own prefix in the cache (the command .ci/run runs), bounded. */
const install = (version: string): string | undefined => {
  const result = spawnSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--no-save",
      "--prefix",
      join(codexCache, version),
      `@openai/codex@${version}`
    ],
    { encoding: "utf8", timeout: 10 * 60 * 1000, stdio: ["ignore", "pipe", "pipe"] }
  )
  if (result.error) return `npm install @openai/codex@${version} failed: ${result.error.message}`
  if (result.status !== 0) {
    return `npm install @openai/codex@${version} exited ${result.status}: ${npmError(result.stderr ?? "")}`
  }
  return undefined
}

/** Every version's binary, or why one is missing. */
export type CodexBinaries =
  | { readonly available: true; readonly binaries: ReadonlyMap<string, string> }
  | { readonly available: false; readonly reason: string }

/** Finds each version's binary, installing the missing ones once (npm, into the cache). */
export const ensureCodex = (): CodexBinaries => {
  if (codexVersions.length === 0) return { available: false, reason: "CODEX_VERSIONS names no version" }
  const binaries = new Map<string, string>()
  for (const version of codexVersions) {
    let found = findCodex(version)
    let failure: string | undefined
    if (found === undefined) {
      failure = install(version)
      found = findCodex(version)
    }
    if (found === undefined) {
      const why = failure ?? "npm install left no binary"
      return {
        available: false,
        reason: `codex ${version} is not in ${codexCache} and could not be installed (${why}); .ci/run installs it`
      }
    }
    binaries.set(version, found)
  }
  return { available: true, binaries }
}

/**
 * A describe block of tests that need the real codex: `body` with the binaries when they are there; else a failure
 * under DEVICECODE_REQUIRE_CODEX=1, or a skip whose title carries the reason (test/support/skipReporter.ts ends every
 * run with it). `skipped` names what the skipped block would have done.
 */
export const describeWithCodex = (
  codex: CodexBinaries,
  title: string,
  skipped: string,
  body: (binaries: ReadonlyMap<string, string>) => void
): void => {
  if (codex.available) {
    const binaries = codex.binaries
    describe(title, () => body(binaries))
  } else if (process.env.DEVICECODE_REQUIRE_CODEX === "1") {
    describe(title, () => {
      it("needs the real codex (DEVICECODE_REQUIRE_CODEX=1)", () => {
        assert.fail(`DEVICECODE_REQUIRE_CODEX=1 but ${codex.reason}`)
      })
    })
  } else {
    describe.skip(`${title} — skipped: ${codex.reason}`, () => {
      it(skipped, () => {})
    })
  }
}
