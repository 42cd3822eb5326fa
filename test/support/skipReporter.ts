// A vitest reporter whose one line ends every run: how many tests were skipped, and why. A suite that skips names its
// reason at the end of its title ("… skipped: <reason>"); the default reporter shows a count without it.
import type { Reporter } from "vitest/reporters"

interface Task {
  readonly type: string
  readonly name: string
  readonly mode: string
  readonly tasks?: ReadonlyArray<Task>
}

const reasonOf = (titles: ReadonlyArray<string>): string => {
  for (const title of [...titles].reverse()) {
    const match = /skipped: (.+?)\)?$/.exec(title)
    if (match) return match[1]!
  }
  return "skipped in the test code, with no reason given"
}

/** The reasons of the skipped tests under `task`, one entry per test. */
const skipped = (task: Task, titles: ReadonlyArray<string>): ReadonlyArray<string> => {
  const path = [...titles, task.name]
  if (task.type === "test") return task.mode === "skip" || task.mode === "todo" ? [reasonOf(path)] : []
  return (task.tasks ?? []).flatMap((child) => skipped(child, path))
}

/** Summarises the skipped tests of a run in one line. */
export const skipLine = (reasons: ReadonlyArray<string>): string => {
  if (reasons.length === 0) return "No test skipped."
  const counts = new Map<string, number>()
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1)
  const tests = `${reasons.length} test${reasons.length === 1 ? "" : "s"} skipped`
  if (counts.size === 1) return `${tests}: ${reasons[0]}`
  return `${tests}: ${[...counts].map(([reason, count]) => `${count}: ${reason}`).join("; ")}`
}

export default class SkipReporter implements Reporter {
  onFinished(files: ReadonlyArray<Task> = []): void {
    process.stdout.write(`\n${skipLine(files.flatMap((file) => skipped(file, [])))}\n`)
  }
}
