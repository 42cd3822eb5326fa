// vitest's globalSetup (vitest.config.ts): one folder per test run for everything the tests put in the temp
// directory, removed when the run ends, and a check that the run left no /tmp/devicecode-* folder behind.
//
// Removing a folder on the process's "exit" event is not enough: vitest ends its workers without one (a run used to
// leave a /tmp/devicecode-test-cache-* per worker, 72 MB in all). Instead TMPDIR names the run's folder for the
// workers and every process that inherits their environment, so os.tmpdir() is inside it: tempDir's folders
// (test/support/tmp.ts), the CLI's code cache, the CODEX_HOME of a `demo` killed before it could remove it, Chromium's
// profiles. DEVICECODE_TEST_TMP names it too, for the helpers that start children with an environment of their own
// (test/support/cli.ts passes it on as their TMPDIR).
import { mkdtempSync, readdirSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

const prefix = "devicecode-"
const runPrefix = `${prefix}run-`

const entries = (dir: string): ReadonlyArray<string> => {
  try {
    return readdirSync(dir)
  } catch {
    return []
  }
}

const ours = (dir: string): ReadonlyArray<string> => entries(dir).filter((name) => name.startsWith(prefix))

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}

/** The pids of the other test runs going on now (their folders are named devicecode-run-<pid>-*). */
const otherRuns = (dir: string): ReadonlyArray<number> =>
  ours(dir)
    .map((name) => (name.startsWith(runPrefix) ? Number(/^(\d+)-/.exec(name.slice(runPrefix.length))?.[1]) : NaN))
    .filter((pid) => Number.isInteger(pid) && pid !== process.pid && alive(pid))

export default function setup(): () => void {
  const system = tmpdir()
  const before = new Set(ours(system))
  const concurrent = new Set(otherRuns(system))
  const run = mkdtempSync(join(system, `${runPrefix}${process.pid}-`))
  const saved = { TMPDIR: process.env.TMPDIR, DEVICECODE_TEST_TMP: process.env.DEVICECODE_TEST_TMP }
  process.env.TMPDIR = run
  process.env.DEVICECODE_TEST_TMP = run

  return () => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
    // what a test left in the run's folder (tempDir's folders go with their scope; the code cache stays for the run)
    const stray = entries(run).filter((name) => name !== "code-cache")
    if (stray.length > 0) console.warn(`Left in the test run's temp folder ${run} (removed now): ${stray.join(", ")}`)
    rmSync(run, { recursive: true, force: true, maxRetries: 3 })
    for (const pid of otherRuns(system)) concurrent.add(pid)
    const left = ours(system).filter((name) => !before.has(name) && !name.startsWith(runPrefix))
    if (left.length === 0) return
    const list = left.map((name) => `  ${join(system, name)}`).join("\n")
    if (concurrent.size > 0) {
      // another run (another checkout's, say) may have made them: whose they are cannot be told
      console.warn(
        `New temp folders appeared during this run, while other test runs were going on (pids ${[...concurrent].join(", ")}); not counted as this run's:\n${list}`
      )
      return
    }
    console.error(
      `The test run left ${left.length} temp folder(s) outside its own (${run}, removed), made by a process ` +
        `started with an environment of its own, without TMPDIR (see test/support/globalSetup.ts):\n${list}`
    )
    process.exitCode = 1
    throw new Error(`the test run left ${left.length} /tmp/devicecode-* folder(s) behind`)
  }
}
