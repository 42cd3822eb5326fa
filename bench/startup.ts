// Whole-process measures of the CLI bundle: start-up against `node -e 0`, cold and warm, and resident memory.
import { Effect, Schedule } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { bin, childEnv, devNull, runTimed } from "./child.js"
import { diskUsage, formatUsage } from "./codeCache.js"
import { tempDir } from "./signIn.js"
import { type Row, verdict } from "./table.js"

/** Timed runs of each of `node -e 0`, the command with a fresh code cache, and the command with a warm one. */
export const RUNS = 21

const TIME = "/usr/bin/time"
const RSS_RUNS = 5
const POLLS = 3

/** A command whose start-up is measured. */
export interface StartupCase {
  /** e.g. `status (API key)`. */
  readonly label: string
  /** After `devicecode`. */
  readonly args: ReadonlyArray<string>
  readonly home: string
  /** The most median(command)/median(node -e 0) may be, warm. */
  readonly maxRatio: number
  /** Whether a run printed what this command should print; the first run is checked. */
  readonly expect: (stdout: string) => boolean
}

interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
}

const spread = (samples: ReadonlyArray<number>): Spread => {
  const sorted = [...samples].sort((a, b) => a - b)
  const middle = sorted.length >> 1
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
  return { median, min: sorted[0]!, max: sorted[sorted.length - 1]! }
}

const ms = (s: Spread) => `${s.median.toFixed(0)} ms (${s.min.toFixed(0)}–${s.max.toFixed(0)})`
const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`

const withFreshDir = <A>(use: (dir: string) => A): A => {
  const dir = mkdtempSync(join(tmpdir(), "devicecode-bench-cache-"))
  try {
    return use(dir)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** What `$XDG_CACHE_HOME/devicecode` holds after the runs, on disk. */
const cacheContents = (cacheHome: string): string => {
  const dir = join(cacheHome, "devicecode")
  if (!existsSync(dir)) return "no code cache written"
  return `code cache ${formatUsage(diskUsage(dir))}`
}

/** What `startup` measured: its two rows, and the warm ratio they print, for the table. */
export interface Startup {
  /** Warm against its target, then cold. */
  readonly rows: ReadonlyArray<Row>
  /** median(command, warm) / median(node -e 0). */
  readonly ratio: number
}

/** A ratio to `node -e 0` as the tables print it: two decimals, so that one just over a target does not read as on it. */
export const times = (ratio: number): string => `${ratio.toFixed(2)}x`

/**
 * Two rows for one command: warm (every run shares one `XDG_CACHE_HOME`, filled by an untimed first run) against its
 * target, and cold (each run gets a fresh, empty `XDG_CACHE_HOME`) for information. The three kinds of run take turns
 * in a rotating order, so that drift on a shared machine falls on all three alike.
 */
export const startup = (self: StartupCase): Effect.Effect<Startup, never, never> =>
  Effect.scoped(
    Effect.gen(function* () {
      const warmCache = yield* tempDir("cache")
      const env = (cache: string) => childEnv({ CODEX_HOME: self.home, XDG_CACHE_HOME: cache })
      const command = [bin, ...self.args]
      const first = runTimed(command, env(warmCache))
      runTimed(["-e", "0"], env(warmCache))
      const problems: Array<string> = []
      if (first.code !== 0 || !self.expect(first.stdout)) problems.push(`unexpected first run (exit ${first.code})`)
      const node: Array<number> = []
      const cold: Array<number> = []
      const warm: Array<number> = []
      let failed = 0
      const kinds = [
        () => node.push(runTimed(["-e", "0"], env(warmCache)).millis),
        () =>
          withFreshDir((cache) => {
            const run = runTimed(command, env(cache))
            if (run.code !== 0) failed++
            cold.push(run.millis)
          }),
        () => {
          const run = runTimed(command, env(warmCache))
          if (run.code !== 0) failed++
          warm.push(run.millis)
        }
      ]
      for (let i = 0; i < RUNS; i++) {
        for (let k = 0; k < kinds.length; k++) kinds[(i + k) % kinds.length]!()
      }
      if (failed > 0) problems.push(`${failed} runs failed`)
      const base = spread(node)
      const coldSpread = spread(cold)
      const warmSpread = spread(warm)
      const ratio = (s: Spread) => s.median / base.median
      const notes = problems.length > 0 ? `; ${problems.join("; ")}` : ""
      const rows: ReadonlyArray<Row> = [
        {
          measure: `start-up, ${self.label}, warm`,
          result: `${ms(warmSpread)} vs node -e 0 ${ms(base)}: ${times(ratio(warmSpread))}${notes}`,
          target: `≤ ${self.maxRatio.toFixed(1)}x`,
          verdict: verdict(problems.length === 0 && ratio(warmSpread) <= self.maxRatio)
        },
        {
          measure: `start-up, ${self.label}, cold`,
          result: `${ms(coldSpread)}: ${times(ratio(coldSpread))} (${cacheContents(warmCache)})${notes}`,
          target: "",
          verdict: problems.length === 0 ? "info" : "MISSED"
        }
      ]
      return { rows, ratio: ratio(warmSpread) }
    })
  )

const peakKib = (args: ReadonlyArray<string>, env: NodeJS.ProcessEnv): number =>
  withFreshDir((dir) => {
    const out = join(dir, "time")
    spawnSync(TIME, ["-f", "%M", "-o", out, process.execPath, ...args], { env, stdio: ["ignore", devNull(), "ignore"] })
    return Number.parseInt(readFileSync(out, "utf8").trim().split("\n").pop() ?? "", 10)
  })

/** Peak RSS (`/usr/bin/time -f %M`) of a command, the median and the largest of a few runs. */
export const peakRss = (options: {
  readonly label: string
  readonly args: ReadonlyArray<string>
  readonly home: string
  readonly cacheHome: string
  readonly maxMib: number
}): Effect.Effect<Row> =>
  Effect.sync(() => {
    const measure = `peak RSS, ${options.label}`
    const target = `< ${options.maxMib} MiB`
    if (!existsSync(TIME)) return { measure, result: `not measured: no ${TIME}`, target, verdict: "skipped" }
    const env = childEnv({ CODEX_HOME: options.home, XDG_CACHE_HOME: options.cacheHome })
    // the first run writes the command's code cache (compiling the bundle whole); the runs measured use it
    peakKib([bin, ...options.args], env)
    const runs = Array.from({ length: RSS_RUNS }, () => peakKib([bin, ...options.args], env))
    const node = spread(Array.from({ length: RSS_RUNS }, () => peakKib(["-e", "0"], env)))
    const own = spread(runs)
    return {
      measure,
      result: `${mib(own.median)} (max ${mib(own.max)}) vs node -e 0 ${mib(node.median)}, ${RSS_RUNS} runs`,
      target,
      verdict: verdict(own.max < options.maxMib * 1024)
    }
  })

const procStatus = (pid: number): Record<string, number> =>
  Object.fromEntries(
    readFileSync(`/proc/${pid}/status`, "utf8")
      .split("\n")
      .map((line) => /^(Vm\w+):\s+(\d+) kB$/.exec(line))
      .flatMap((match) => (match === null ? [] : [[match[1]!, Number(match[2])] as const]))
  )

/**
 * RSS of `devicecode login` while it polls a LocalIssuer that never approves: read from `/proc/<pid>/status` once the
 * issuer has seen 3 polls (1 s apart), then the login is interrupted.
 */
export const pollingLoginRss = (options: { readonly cacheHome: string; readonly maxMib: number }): Effect.Effect<Row> =>
  Effect.scoped(
    Effect.gen(function* () {
      const measure = `RSS of a polling login, after ${POLLS} polls`
      const target = `< ${options.maxMib} MiB`
      if (!existsSync("/proc/self/status")) {
        return { measure, result: "not measured: no /proc", target, verdict: "skipped" } satisfies Row
      }
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir("home")
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, [bin, "login", "--issuer", issuer.url], {
            env: childEnv({ CODEX_HOME: home, XDG_CACHE_HOME: options.cacheHome }),
            stdio: ["ignore", devNull(), "ignore"]
          })
        ),
        (child) =>
          Effect.async<void>((resume) => {
            if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
            child.once("close", () => resume(Effect.void))
            child.kill("SIGINT")
          })
      )
      const polled = yield* issuer.stats.pipe(
        Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (stats) => stats.poll >= POLLS }),
        Effect.timeout("30 seconds"),
        Effect.option
      )
      if (polled._tag === "None" || child.exitCode !== null || child.pid === undefined) {
        const polls = (yield* issuer.stats).poll
        return { measure, result: `no reading: ${polls} polls, exit ${child.exitCode}`, target, verdict: "MISSED" }
      }
      const vm = procStatus(child.pid)
      const polls = (yield* issuer.stats).poll
      const rss = vm.VmRSS ?? Number.NaN
      return {
        measure,
        result: `VmRSS ${mib(rss)} (VmHWM ${mib(vm.VmHWM ?? Number.NaN)}) after ${polls} polls`,
        target,
        verdict: verdict(rss < options.maxMib * 1024)
      } satisfies Row
    })
  )
