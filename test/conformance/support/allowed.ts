import type { Difference } from "./observation.js"

/**
 * A value matcher: a pattern the (masked) value must match, `absent` for a side that has nothing there, or a test of
 * the value against the other side's (for a message: does devicecode print the same words after its own prefix).
 */
export type ValueMatcher = RegExp | "absent" | ((value: string, other: string | undefined) => boolean)

/** One difference between codex and devicecode that the suite accepts, and why. */
export interface AllowedDifference {
  readonly id: string
  /** The scenarios it applies to (names in scenarios.ts), or every scenario. */
  readonly scenarios: ReadonlyArray<string> | "all"
  /** The codex versions it applies to, or every version. */
  readonly versions: ReadonlyArray<string> | "all"
  /** The field, as the comparator names it (`request 1 POST /api/accounts/deviceauth/usercode header accept`). */
  readonly field: RegExp
  /** What codex must have there; any value when left out. */
  readonly codex?: ValueMatcher
  /** What devicecode must have there; any value when left out. For a message line: what it prints instead. */
  readonly devicecode?: ValueMatcher
  /** What differs, in words. */
  readonly what: string
  /** Why the difference is right, or harmless. */
  readonly reason: string
}

const matchesValue = (
  matcher: ValueMatcher | undefined,
  value: string | undefined,
  other: string | undefined
): boolean => {
  if (matcher === undefined) return true
  if (matcher === "absent") return value === undefined
  if (value === undefined) return false
  return typeof matcher === "function" ? matcher(value, other) : matcher.test(value)
}

/** Whether an entry covers the run of `scenario` against codex `version`. */
export const inScope = (entry: AllowedDifference, scenario: string, version: string): boolean =>
  (entry.scenarios === "all" || entry.scenarios.includes(scenario)) &&
  (entry.versions === "all" || entry.versions.includes(version))

/** The entry that allows this difference, if any. */
export const allowing = (
  entries: ReadonlyArray<AllowedDifference>,
  scenario: string,
  version: string,
  difference: Difference
): AllowedDifference | undefined =>
  entries.find(
    (entry) =>
      inScope(entry, scenario, version) &&
      entry.field.test(difference.field) &&
      matchesValue(entry.codex, difference.codex, difference.devicecode) &&
      matchesValue(entry.devicecode, difference.devicecode, difference.codex)
  )

/** A run's differences, split into those an entry allows (with it) and the others. */
export const classify = (
  entries: ReadonlyArray<AllowedDifference>,
  scenario: string,
  version: string,
  differences: ReadonlyArray<Difference>
): {
  readonly unexpected: ReadonlyArray<Difference>
  readonly allowed: ReadonlyArray<{ readonly difference: Difference; readonly entry: AllowedDifference }>
} => {
  const unexpected: Array<Difference> = []
  const allowed: Array<{ difference: Difference; entry: AllowedDifference }> = []
  for (const difference of differences) {
    const entry = allowing(entries, scenario, version, difference)
    if (entry === undefined) unexpected.push(difference)
    else allowed.push({ difference, entry })
  }
  return { unexpected, allowed }
}

/**
 * The entries that no run they apply to needed: stale, so the list stays true. `runs` are the (scenario, version)
 * pairs that ran to a comparison and the ids each used; an entry none of whose runs ran is not judged.
 */
export const staleEntries = (
  entries: ReadonlyArray<AllowedDifference>,
  runs: ReadonlyArray<{ readonly scenario: string; readonly version: string; readonly used: ReadonlySet<string> }>
): ReadonlyArray<AllowedDifference> =>
  entries.filter((entry) => {
    const relevant = runs.filter((run) => inScope(entry, run.scenario, run.version))
    return relevant.length > 0 && !relevant.some((run) => run.used.has(entry.id))
  })
