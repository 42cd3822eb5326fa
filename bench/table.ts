// The bench's output: one table of measures against their targets, and a last line that sums it up.

/** `info`: reported without a target; `skipped`: this machine cannot measure it (the reason is in `result`). */
export type Verdict = "ok" | "MISSED" | "info" | "skipped"

/** One line of the table. */
export interface Row {
  readonly measure: string
  readonly result: string
  readonly target: string
  readonly verdict: Verdict
}

/** `ok` when `met`, else `MISSED`. */
export const verdict = (met: boolean): Verdict => (met ? "ok" : "MISSED")

/** The table, its columns padded, with a rule under the header. */
export const render = (rows: ReadonlyArray<Row>): string => {
  const cells = [
    ["measure", "result", "target", ""],
    ...rows.map((row) => [row.measure, row.result, row.target, row.verdict === "info" ? "" : row.verdict])
  ]
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)))
  const lines = cells.map((line) =>
    line
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  )
  lines.splice(1, 0, widths.map((width) => "-".repeat(width)).join("  "))
  return lines.join("\n")
}

/** One line: how many targets were met, and which were missed or skipped. */
export const summary = (rows: ReadonlyArray<Row>): string => {
  const targeted = rows.filter((row) => row.verdict === "ok" || row.verdict === "MISSED")
  const missed = rows.filter((row) => row.verdict === "MISSED")
  const skipped = rows.filter((row) => row.verdict === "skipped")
  const parts = [`${targeted.length - missed.length} of ${targeted.length} targets met`]
  if (missed.length > 0) parts.push(`MISSED: ${missed.map((row) => row.measure).join("; ")}`)
  if (skipped.length > 0) parts.push(`skipped: ${skipped.map((row) => row.measure).join("; ")}`)
  return `summary: ${parts.join(" — ")}`
}

/** One line of the issue's start-up table: a measure, its value when the issue was filed, its goal, and this run's. */
export interface IssueRow {
  readonly command: string
  readonly today: string
  readonly goal: string
  readonly measured: string
}

/** The issue's table (Markdown, as the issue has it), with a column measured by this run. */
export const renderIssue = (header: string, rows: ReadonlyArray<IssueRow>): string =>
  [
    `| ${header} | today | goal | measured |`,
    "|---|---|---|---|",
    ...rows.map((row) => `| ${row.command} | ${row.today} | ${row.goal} | ${row.measured} |`)
  ].join("\n")
