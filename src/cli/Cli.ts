import * as CliConfig from "@effect/cli/CliConfig"
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Span from "@effect/cli/HelpDoc/Span"
import * as Arr from "effect/Array"
import type * as Usage from "@effect/cli/Usage"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { VERSION } from "../version.js"
import { findUsageProblem, flagsOf, usageLine } from "./usage.js"

// Each subcommand's module is loaded only when it is needed: a start evaluates the code of the command it runs, not
// of all seven (the bundle turns these imports into modules evaluated on first use).
const subcommands = {
  login: () => import("./loginCommand.js").then((m) => m.loginCommand),
  status: () => import("./statusCommand.js").then((m) => m.statusCommand),
  token: () => import("./tokenCommand.js").then((m) => m.tokenCommand),
  logout: () => import("./logoutCommand.js").then((m) => m.logoutCommand),
  demo: () => import("./demoCommand.js").then((m) => m.demoCommand),
  issuer: () => import("./issuerCommand.js").then((m) => m.issuerCommand),
  completion: () =>
    import("./completionCommand.js").then((m) =>
      // annotated: the completion script is made from the command that lists it, which TS cannot infer in a cycle
      m.completionCommand((): Command.Command<"devicecode", unknown, unknown, any> => whole)
    )
}

/** The name of a subcommand. */
export type SubcommandName = keyof typeof subcommands

/** Any of the subcommands, as loaded. */
export type Subcommand = Awaited<ReturnType<(typeof subcommands)[SubcommandName]>>

const names = Object.keys(subcommands) as ReadonlyArray<SubcommandName>
const isName = (word: string | undefined): word is SubcommandName => word !== undefined && word in subcommands

// Words after which @effect/cli prints something made from the whole tree (wizard, completions, version). A command's
// help (`login --help`) is made from that command alone: test/cli.lazy.test.ts compares the bytes.
const wholeTreeFlags = new Set(["--wizard", "--completions", "--version"])

/**
 * The subcommands a run with `args` (argv without node and the script) needs: only the named one, unless the run
 * prints completions, the version or the wizard, names no known command (the overview's help among them), or is
 * `completion` (all of which describe the whole tree, and print the same bytes whichever way it was loaded).
 */
export const subcommandsFor = (args: ReadonlyArray<string>): ReadonlyArray<SubcommandName> => {
  const first = args[0]
  return isName(first) && first !== "completion" && !args.some((word) => wholeTreeFlags.has(word)) ? [first] : names
}

// @effect/cli lists a subcommand's description only when it is one paragraph; ours have an example paragraph too, so
// the overview names each command here.
const overview = HelpDoc.blocks([
  HelpDoc.p("Sign in with the OAuth 2.0 device-code grant and keep the tokens codex reads."),
  HelpDoc.enumeration(
    Arr.map(
      [
        ["login", "Sign in with a device code, or store an API key (--with-api-key)"],
        ["status", "Show who is signed in, and where (--all: every profile)"],
        ["token", "Print a fresh access token"],
        ["logout", "Revoke the refresh token and delete the sign-in"],
        ["demo", "Run a whole login against an embedded local issuer"],
        ["issuer", "Run the embedded local issuer until stopped"],
        ["completion", "Print a completion script for bash, zsh or fish"]
      ] as const,
      ([name, summary]) => HelpDoc.p(Span.spans([Span.code(name.padEnd(12)), Span.text(summary)]))
    )
  ),
  HelpDoc.p("Run devicecode COMMAND --help for a command's options, devicecode --version for the version."),
  HelpDoc.p("Example: devicecode login --open --qr")
])

const root = (loaded: Arr.NonEmptyReadonlyArray<Subcommand>) =>
  Command.make("devicecode").pipe(Command.withDescription(overview), Command.withSubcommands(loaded))

/** The root command as last built with every subcommand, for the completion command's script. */
let whole: ReturnType<typeof root>

/** A subcommand, loaded, with its name and its usage (what its flags are). */
interface Loaded {
  readonly name: SubcommandName
  readonly command: Subcommand
  readonly usage: Usage.Usage
}

const load = (wanted: ReadonlyArray<SubcommandName>): Effect.Effect<ReadonlyArray<Loaded>> =>
  Effect.promise(() =>
    Promise.all(
      names
        .filter((name) => wanted.includes(name))
        .map(async (name) => {
          const command: Subcommand = await subcommands[name]()
          return {
            name,
            command,
            usage: Command.getUsage(command as Command.Command<string, unknown, unknown, unknown>)
          }
        })
    )
  )

const build = (loaded: ReadonlyArray<Loaded>) => {
  const command = root(loaded.map((sub) => sub.command) as unknown as Arr.NonEmptyReadonlyArray<Subcommand>)
  if (loaded.length === names.length) whole = command
  return command
}

/** The `devicecode` command with the subcommands `wanted` (in the order of the help), their modules loaded. */
export const devicecode = (wanted: ReadonlyArray<SubcommandName> = names) => Effect.map(load(wanted), build)

/** `devicecode help [COMMAND]` is `devicecode [COMMAND] --help`, as in git and gh. */
export const withHelpCommand = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  args[0] === "help" && args.length <= 2 ? [...args.slice(1), "--help"] : args

/** What follows a usage error: the command's usage line and where its help is (the overview's, at the top level). */
const usageHint = (loaded: ReadonlyArray<Loaded>, name: Option.Option<string>) =>
  Option.match(
    Option.flatMap(name, (wanted) => Option.fromNullable(loaded.find((sub) => sub.name === wanted))),
    {
      onNone: () => Console.error("Usage: devicecode COMMAND [OPTIONS]\nRun 'devicecode --help' for the commands."),
      onSome: (sub) => Console.error(`Usage: ${usageLine(sub.usage)}\nRun 'devicecode ${sub.name} --help' for more.`)
    }
  )

/**
 * Parses argv and runs the chosen command, loading only the subcommands it needs. A usage error is one line saying
 * what is wrong, then the command's usage line and where its help is; it fails with the ValidationError (exit 2).
 */
export const cli = (argv: ReadonlyArray<string>) => {
  const args = withHelpCommand(argv.slice(2))
  return Effect.flatMap(load(subcommandsFor(args)), (loaded) =>
    Effect.gen(function* () {
      const specs = new Map(loaded.map((sub) => [sub.name as string, flagsOf(sub.usage)] as const))
      const problem = findUsageProblem(args, specs)
      if (Option.isSome(problem)) {
        yield* Console.error(problem.value.message)
        yield* usageHint(loaded, problem.value.command)
        return yield* Effect.fail(ValidationError.invalidValue(HelpDoc.p(problem.value.message)))
      }
      return yield* Command.run(build(loaded), { name: "devicecode", version: VERSION })([
        ...argv.slice(0, 2),
        ...args
      ]).pipe(
        // @effect/cli printed the error; the usage line and the way to help follow it
        Effect.tapError((error) =>
          ValidationError.isValidationError(error) && !ValidationError.isHelpRequested(error)
            ? usageHint(loaded, Option.fromNullable(args.find((word) => specs.has(word))))
            : Effect.void
        ),
        // the help lists our options only: --wizard, --completions and --log-level are @effect/cli's, unused here
        Effect.provide(CliConfig.layer({ showBuiltIns: false }))
      )
    })
  )
}
