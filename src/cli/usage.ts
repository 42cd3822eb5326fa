import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Usage from "@effect/cli/Usage"
import * as Option from "effect/Option"

// Usage errors a person makes most (a flag without its value, a typo, a flag twice, a value outside a choice) are
// found here, from each command's own @effect/cli definition (its Usage), before @effect/cli parses: its own messages
// for them ("Received unknown argument: '--issuer'") do not say what went wrong. Whatever this does not find is left
// to @effect/cli, whose messages for our own checks name the flag already.

/** A flag of a command, as its definition describes it. */
export interface FlagSpec {
  readonly names: ReadonlyArray<string>
  /** What its value is (`URL`, `N`, `codex | rfc8628`); none for a boolean flag. */
  readonly value: Option.Option<string>
}

/** What a usage check found: the message, and the command it concerns (none: the top level). */
export interface UsageProblem {
  readonly command: Option.Option<string>
  readonly message: string
}

// @effect/cli's own flags, accepted anywhere
const BUILT_IN = new Set(["--help", "-h", "--version", "--wizard", "--completions", "--log-level"])

type UsageNode =
  | { readonly _tag: "Named"; readonly names: ReadonlyArray<string>; readonly acceptedValues: Option.Option<string> }
  | { readonly _tag: "Optional" | "Repeated"; readonly usage: UsageNode }
  | { readonly _tag: "Concat" | "Alternation"; readonly left: UsageNode; readonly right: UsageNode }
  | { readonly _tag: "Empty" | "Mixed" }

const namedIn = (node: UsageNode): ReadonlyArray<FlagSpec> => {
  switch (node._tag) {
    case "Named":
      return node.names.some((name) => name.startsWith("-")) ? [{ names: node.names, value: node.acceptedValues }] : []
    case "Optional":
    case "Repeated":
      return namedIn(node.usage)
    case "Concat":
    case "Alternation":
      return [...namedIn(node.left), ...namedIn(node.right)]
    default:
      return []
  }
}

/** The flags of `usage` (a command's, from `Command.getUsage`). */
export const flagsOf = (usage: Usage.Usage): ReadonlyArray<FlagSpec> => namedIn(usage as unknown as UsageNode)

/** A command's usage line (of its `Command.getUsage`), as its help's USAGE shows it: `devicecode login [--dialect …] …`. */
export const usageLine = (usage: Usage.Usage): string =>
  `devicecode ${HelpDoc.toAnsiText(Usage.getHelp(usage))
    .replace(/\x1b\[[0-9;]*m/g, "")
    .replace(/^\$ /, "")
    .trim()}`

/** Levenshtein distance: how many single-character edits turn `a` into `b`. */
export const editDistance = (a: string, b: string): number => {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = current
  }
  return previous[b.length]!
}

/** The candidate closest to `word` within 2 edits, if one is (the first of equals). */
export const closest = (word: string, candidates: ReadonlyArray<string>): Option.Option<string> => {
  let best: { readonly name: string; readonly distance: number } | undefined
  for (const name of candidates) {
    const distance = editDistance(word, name)
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { name, distance }
  }
  return Option.fromNullable(best?.name)
}

const didYouMean = (word: string, candidates: ReadonlyArray<string>) =>
  Option.match(closest(word, candidates), { onNone: () => "", onSome: (name) => `; did you mean '${name}'?` })

// the placeholders of our value flags (their pseudo-names), in words
const PLACEHOLDERS: Readonly<Record<string, string>> = {
  URL: "a URL",
  ID: "an id",
  NAME: "a name",
  SCOPE: "a scope (space-separated, quoted)",
  PORT: "a port number",
  SECONDS: "a number of seconds",
  DIR: "a directory",
  text: "a value",
  integer: "a whole number",
  directory: "a directory"
}

/** What a flag's value must be, for a message: "a URL", "one of codex, rfc8628". */
const accepts = (value: string): string => {
  const choices = value.split(" | ")
  if (choices.length > 1) return `one of ${choices.join(", ")}`
  return PLACEHOLDERS[value] ?? `a ${value}`
}

/**
 * The first usage error in `args` (argv after the script) that the definitions show: an unknown command, an unknown
 * flag, a flag without its value, a flag given twice, a value outside a choice. Only words before `--` are read, and
 * `--flag=value` forms and what follows a built-in flag are left to @effect/cli.
 */
export const findUsageProblem = (
  args: ReadonlyArray<string>,
  commands: ReadonlyMap<string, ReadonlyArray<FlagSpec>>
): Option.Option<UsageProblem> => {
  const end = args.indexOf("--")
  const words = end === -1 ? args : args.slice(0, end)
  if (words.some((word) => BUILT_IN.has(word) || word.includes("="))) return Option.none()
  const [name, ...rest] = words
  if (name === undefined) return Option.none()
  const top = (message: string) => Option.some({ command: Option.none(), message })
  const flags = commands.get(name)
  if (flags === undefined) {
    return name.startsWith("-")
      ? top(`unknown flag '${name}' before a command`)
      : top(`unknown command '${name}'${didYouMean(name, [...commands.keys()])}`)
  }
  const problem = (message: string) => Option.some({ command: Option.some(name), message })
  const byName = new Map(flags.flatMap((flag) => flag.names.map((flagName) => [flagName, flag] as const)))
  const seen = new Set<FlagSpec>()
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!
    if (!word.startsWith("-")) continue
    const flag = byName.get(word)
    if (flag === undefined) {
      return problem(
        `unknown flag '${word}' for '${name}'${didYouMean(
          word,
          flags.flatMap((known) => known.names)
        )}`
      )
    }
    if (seen.has(flag)) return problem(`${word} was given more than once`)
    seen.add(flag)
    if (Option.isSome(flag.value)) {
      const value = rest[i + 1]
      // a word that starts with a dash is the next flag, unless it is a (negative) number
      if (value === undefined || (value.startsWith("-") && !/^-\d/.test(value))) {
        return problem(`${word} needs a value: ${accepts(flag.value.value)}`)
      }
      const choices = flag.value.value.split(" | ")
      if (choices.length > 1 && !choices.includes(value)) {
        return problem(`${word} must be ${accepts(flag.value.value)}, not '${value}'`)
      }
      i++
    }
  }
  return Option.none()
}
