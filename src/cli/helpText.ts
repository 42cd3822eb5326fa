import * as Effect from "effect/Effect"

// What @effect/cli prints itself (help screens, usage errors, the version, completion scripts) goes through Console
// as one rendered string; this is where it is made ours.

// eslint-disable-next-line no-control-regex
const SGR = /\x1b\[[0-9;]*m/g

// Paragraphs @effect/cli adds to every option: the type of a value and whether it may be left out, which the usage
// line and our own descriptions already say.
const BOILERPLATE = [
  /^A user-defined piece of text\.$/,
  /^A user-defined piece of text that is confidential\.$/,
  /^A true or false value\.$/,
  /^An integer\.$/,
  /^A floating point number\.$/,
  /^This setting is optional\.( Defaults to: .*)?$/,
  // the choices, which the option's line shows already
  /^One of the following: .*$/
]

// In OPTIONS, each option is its line and its indented description, with no blank lines: two lines an option.
const tightenOptions = (text: string): string => {
  const at = text.search(/^(\x1b\[[0-9;]*m)*OPTIONS(\x1b\[[0-9;]*m)*\n\n/m)
  if (at === -1) return text
  const start = text.indexOf("\n\n", at) + 2
  return text.slice(0, start) + text.slice(start).replace(/\n\n(?=(\x1b\[[0-9;]*m)*(-|  \S))/g, "\n")
}

const isHelpScreen = (plain: string) => /^USAGE$/m.test(plain)

/**
 * `text` as devicecode prints it: without escape codes unless `color`; on a help screen, without @effect/cli's
 * banner, boilerplate paragraphs, trailing blanks or runs of empty lines, and with the program name on each `$ `
 * usage line; never with empty lines at the end (the version was followed by one).
 */
export const tidyCliText = (text: string, color: boolean): string => {
  const plain = text.replace(SGR, "")
  let out = color ? text : plain
  if (isHelpScreen(plain)) {
    out = out
      .split("\n")
      .filter((line) => !BOILERPLATE.some((pattern) => pattern.test(line.replace(SGR, "").trim())))
      .map((line) => line.replace(/^\$ (?!devicecode\b)/, "$ devicecode ").trimEnd())
      .join("\n")
      .replace(/\n{3,}/g, "\n\n")
      // the top level's usage line names what comes after the program
      .replace(/^(\x1b\[[0-9;]*m)*\$ devicecode(\x1b\[[0-9;]*m)*$/m, "$ devicecode COMMAND [OPTIONS]")
      // the banner repeats the name the next line gives with the version: the usage line moves up into view
      .replace(/^(\x1b\[[0-9;]*m)*devicecode(\x1b\[[0-9;]*m)*\n\n(?=devicecode \d)/, "")
  }
  if (isHelpScreen(plain)) out = tightenOptions(out)
  return out.replace(/\n+$/, "")
}

/**
 * Runs `self` with a Console whose string arguments are {@link tidyCliText}ed, colour kept on stdout and stderr as
 * given. Command output is already sanitised (no escape codes of its own), so only @effect/cli's text changes.
 */
export const withTidyCliText =
  (color: { readonly stdout: boolean; readonly stderr: boolean }) =>
  <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.flatMap(Effect.console, (base) => {
      const tidy = (keep: boolean, args: ReadonlyArray<unknown>) =>
        args.map((arg) => (typeof arg === "string" ? tidyCliText(arg, keep) : arg))
      return Effect.withConsole(self, {
        ...base,
        log: (...args) => base.log(...tidy(color.stdout, args)),
        error: (...args) => base.error(...tidy(color.stderr, args))
      })
    })
