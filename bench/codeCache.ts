// The code cache's size on disk once every command has run with one XDG_CACHE_HOME, as `du -sk` counts it.
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { existsSync, lstatSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { bin, childEnv, devNull } from "./child.js"
import { tempDir } from "./signIn.js"
import { type Row, verdict } from "./table.js"

/** What `$XDG_CACHE_HOME/devicecode` may take on disk in all, in bytes (bin/devicecode.cjs's BUDGET). */
export const MAX_BYTES = 5_000_000
/** A command that has not finished by then failed (demo, the slowest, takes ~5 s: a whole login to a local issuer). */
const TIMEOUT_MILLIS = 30_000

/** What a directory takes on disk, as `du -s` counts it: st_blocks × 512 of the directory itself and all below it. */
export interface DiskUsage {
  readonly bytes: number
  readonly files: number
}

export const diskUsage = (dir: string): DiskUsage => {
  const self = lstatSync(dir)
  let bytes = self.blocks * 512
  let files = 0
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    const stat = lstatSync(path)
    if (stat.isDirectory()) {
      const below = diskUsage(path)
      bytes += below.bytes
      files += below.files
    } else {
      bytes += stat.blocks * 512
      files++
    }
  }
  return { bytes, files }
}

/** e.g. `4.81 MB (4,700 KiB) in 3 files`: MB = 10⁶ bytes, KiB = 1,024 bytes (what `du -sk` prints). */
export const formatUsage = (usage: DiskUsage): string =>
  `${(usage.bytes / 1e6).toFixed(2)} MB (${Math.ceil(usage.bytes / 1024).toLocaleString("en")} KiB) in ` +
  `${usage.files} file${usage.files === 1 ? "" : "s"}`

/** One command line run for the code cache: its arguments, its CODEX_HOME, and what it reads on stdin. */
interface Step {
  readonly args: ReadonlyArray<string>
  readonly home: string
  readonly input?: string
}

/** The result of `codeCacheSize`: its row, and the size for the table. */
export interface CodeCacheSize {
  readonly row: Row
  readonly usage: DiskUsage | undefined
}

/**
 * Every command's `--help`, then `status`, `token`, their `--json`, `completion bash`, `login --with-api-key` (into a
 * scratch CODEX_HOME), `logout` (of that one) and `demo` (a whole login against its embedded issuer, offline), one
 * after the other with one fresh XDG_CACHE_HOME: what the code cache then takes on disk, against 5 MB. `home` holds a
 * ChatGPT sign-in whose access token is fresh (so that `token` needs no issuer); `apiKey` is stored by `login`.
 */
export const codeCacheSize = (options: { readonly home: string; readonly apiKey: string }) =>
  Effect.scoped(
    Effect.gen(function* () {
      const cacheHome = yield* tempDir("cache")
      const scratch = yield* tempDir("home")
      const demoHome = yield* tempDir("home")
      const home = options.home
      const steps: ReadonlyArray<Step> = [
        ...[[], ["login"], ["status"], ["token"], ["logout"], ["demo"], ["issuer"], ["completion"]].map((command) => ({
          args: [...command, "--help"],
          home
        })),
        { args: ["status"], home },
        { args: ["token"], home },
        { args: ["status", "--json"], home },
        { args: ["token", "--json"], home },
        { args: ["completion", "bash"], home },
        { args: ["login", "--with-api-key"], home: scratch, input: options.apiKey },
        { args: ["logout"], home: scratch },
        { args: ["demo"], home: demoHome }
      ]
      const failed: Array<string> = []
      for (const step of steps) {
        const run = spawnSync(process.execPath, [bin, ...step.args], {
          env: childEnv({ CODEX_HOME: step.home, XDG_CACHE_HOME: cacheHome }),
          ...(step.input === undefined ? {} : { input: step.input }),
          stdio: [step.input === undefined ? "ignore" : "pipe", devNull(), "ignore"],
          timeout: TIMEOUT_MILLIS
        })
        if (run.status !== 0) {
          const how = run.signal === null ? `exit ${run.status}` : `killed (${run.signal}) after ${TIMEOUT_MILLIS} ms`
          failed.push(`\`${step.args.join(" ")}\` ${how}`)
        }
      }
      const dir = join(cacheHome, "devicecode")
      const usage = existsSync(dir) ? diskUsage(dir) : undefined
      const notes = failed.length > 0 ? `; failed: ${failed.join(", ")}` : ""
      const row: Row = {
        measure: `code cache on disk (du -s) after ${steps.length} command lines, one XDG_CACHE_HOME`,
        result: `${usage === undefined ? "no code cache written" : formatUsage(usage)}${notes}`,
        target: `≤ 5 MB (${MAX_BYTES.toLocaleString("en")} bytes)`,
        verdict: verdict(failed.length === 0 && (usage?.bytes ?? 0) <= MAX_BYTES)
      }
      return { row, usage } satisfies CodeCacheSize
    })
  )
