// `devicecode status`'s handler and what it prints: no @effect/cli here, so that the fast path (fastPath.ts) runs it
// without evaluating the parser. statusCommand.ts makes the command of it.
import * as Console from "effect/Console"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as CliEvents from "../domain/CliEvents.js"
import type { CredentialsStoreKind } from "../domain/CodexConfig.js"
import type { StoreError } from "../domain/Errors.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { listProfiles } from "../layers/FileStore.js"
import { Setup } from "../layers/setup.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import { describeSignIn, type SignInDescription } from "../services/describeSignIn.js"
import { storeCommandOptions } from "./authOptions.js"
import { type AuthOptions, CliLayers, type Platform } from "./CliLayers.js"
import { CliExit, ExitCode } from "./exit.js"
import type { StatusFlags } from "./flagTable.js"
import { humanDuration } from "./render.js"
import { notLoggedInHelp, notLoggedInText } from "./notLoggedIn.js"
import { withSafeConsole } from "./terminal.js"
import { withJsonOutput } from "./withJsonOutput.js"

/** What `status` reports of one profile, without a single secret in it (its schema is the `--json` output). */
export type StatusReport = CliEvents.StatusReport

/** The report of one profile's sign-in, as {@link describeSignIn} describes it. */
export const statusReport = (profileName: string, description: SignInDescription): StatusReport =>
  Option.match(description.signIn, {
    onNone: () => ({ profile: profileName, logged_in: false, store: description.location }),
    onSome: (signIn) => {
      const base = {
        profile: profileName,
        logged_in: true,
        method: signIn.method,
        ...Option.match(signIn.origin, { onNone: () => ({}), onSome: (origin) => ({ issuer: origin.issuer }) })
      }
      if (signIn.method === "apikey") {
        return { ...base, api_key: Option.getOrElse(signIn.maskedApiKey, () => "***"), store: description.location }
      }
      const { claims } = signIn
      return {
        ...base,
        email: Option.getOrNull(claims.email),
        ...(signIn.method === "oidc"
          ? { name: Option.getOrNull(claims.name), subject: Option.getOrNull(claims.subject) }
          : { plan: Option.getOrNull(claims.plan), account_id: Option.getOrNull(signIn.accountId) }),
        access_token_expires_at: Option.getOrNull(Option.map(signIn.expiresAt, DateTime.formatIso)),
        store: description.location
      }
    }
  })

const expiryText = (iso: string | null | undefined, now: DateTime.Utc): string => {
  if (!iso) return "unknown"
  const left = DateTime.distance(now, DateTime.unsafeMake(iso))
  return left > 0 ? `expires ${iso} (in ${humanDuration(Duration.millis(left))})` : `expired at ${iso}`
}

/** The text `status` prints for one profile; each line sanitised (the claims and the issuer are a server's). */
export const statusText = (report: StatusReport, now: DateTime.Utc): string => {
  if (!report.logged_in) return notLoggedInText(report.profile, "status")
  const lines =
    report.method === "apikey"
      ? [`API key configured - ${report.api_key}`, "Authentication is checked when you send a request."]
      : report.method === "oidc"
        ? [
            `Logged in to ${report.issuer ?? "an OpenID provider"} (RFC 8628)`,
            `  Email:         ${report.email ?? "unknown"}`,
            `  Name:          ${report.name ?? "unknown"}`,
            `  Subject:       ${report.subject ?? "unknown"}`,
            `  Access token:  ${expiryText(report.access_token_expires_at, now)}`
          ]
        : [
            "Logged in using ChatGPT",
            `  Email:         ${report.email ?? "unknown"}`,
            `  Plan:          ${report.plan ?? "unknown"}`,
            `  Account id:    ${report.account_id ?? "none"}`,
            `  Access token:  ${expiryText(report.access_token_expires_at, now)}`
          ]
  if (report.issuer && report.method !== "oidc") lines.push(`  Issuer:        ${report.issuer}`)
  if (report.profile !== DEFAULT_PROFILE) lines.push(`  Profile:       ${report.profile}`)
  lines.push(`  Stored in:     ${report.store}`)
  return lines.map((line) => sanitize(line)).join("\n")
}

/**
 * One line per profile for `status --all`, each cell sanitised before the columns are measured; an unreadable
 * profile's error follows the table, naming the profile, so that no cell is as wide as a message.
 */
export const statusTable = (reports: ReadonlyArray<StatusReport>, now: DateTime.Utc): string => {
  const rows = reports.map((r) =>
    [
      r.profile,
      r.error ? "unreadable" : r.logged_in ? (r.method ?? "") : "not logged in",
      r.error ? "(see below)" : r.method === "apikey" ? (r.api_key ?? "") : (r.email ?? (r.logged_in ? "unknown" : "")),
      r.issuer ?? (r.logged_in && r.method !== "oidc" ? "(codex default)" : ""),
      r.logged_in && r.method !== "apikey" ? expiryText(r.access_token_expires_at, now) : ""
    ].map((cell) => sanitize(cell))
  )
  const header = ["PROFILE", "STATUS", "ACCOUNT", "ISSUER", "ACCESS TOKEN"]
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const table = [header, ...rows].map((row) =>
    row
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("  ")
      .trimEnd()
  )
  const errors = reports.flatMap((r) => (r.error ? [sanitize(`Profile ${r.profile}: ${r.error}`)] : []))
  return [...table, ...(errors.length === 0 ? [] : ["", ...errors])].join("\n")
}

/** Describes the sign-in of the store in context as the profile's report; reads only, never the network. */
export const loadStatus: Effect.Effect<StatusReport, StoreError, CredentialStore | Setup> = Effect.gen(function* () {
  const { target } = yield* Setup
  return statusReport(target.profile, yield* describeSignIn)
})

/** Every profile: the default first, then the named ones; an unreadable one is reported, not fatal. */
export const loadAllStatuses = (
  options: AuthOptions
): Effect.Effect<ReadonlyArray<StatusReport>, StoreError, CliLayers | Setup | Platform> =>
  Effect.gen(function* () {
    const { codexHome } = yield* Setup
    const layers = yield* CliLayers
    const names = [DEFAULT_PROFILE, ...(yield* listProfiles(codexHome))]
    return yield* Effect.forEach(names, (name) =>
      loadStatus.pipe(
        // a config.toml warning was printed once, when the command's own setup was resolved
        Effect.provide(layers.store({ ...options, codexHome, profile: name, onConfigWarning: () => Effect.void })),
        Effect.catchAll((error) =>
          Effect.succeed<StatusReport>({
            profile: name,
            logged_in: false,
            store: error.path,
            error: error.message
          })
        )
      )
    )
  })

/** Prints a status report; not logged in ends with exit code 1. */
export const printStatus = (report: StatusReport, json: boolean): Effect.Effect<void, CliExit> =>
  Effect.gen(function* () {
    yield* json
      ? withJsonOutput((output) => output.printJson(output.CliEvents.StatusReport, report))
      : Console.log(statusText(report, yield* DateTime.now))
    if (!report.logged_in) return yield* new CliExit({ code: ExitCode.failure })
  })

/** What @effect/cli hands `status`'s handler. */
export interface StatusInput {
  readonly json: boolean
  readonly selection: { readonly all: boolean; readonly profile: Option.Option<string> }
  readonly store: Option.Option<CredentialsStoreKind>
  readonly noColor: boolean
  readonly verbose: boolean
}

/** The input of a `status` given only boolean flags: what the fast path runs (test/fastPath.test.ts checks it). */
export const statusInput = (flags: StatusFlags): StatusInput => ({
  json: flags.json,
  selection: { all: flags.all, profile: Option.none() },
  store: Option.none(),
  noColor: flags.noColor,
  verbose: flags.verbose
})

/** `devicecode status`: one profile's report, or with `--all` every profile's. */
export const runStatus = ({ selection: { all, profile }, ...options }: StatusInput) =>
  Effect.gen(function* () {
    if (!all) {
      const report = yield* loadStatus
      if (report.logged_in || options.json) return yield* printStatus(report, options.json)
      yield* Console.log(
        yield* notLoggedInHelp("status", storeCommandOptions({ ...options, profile }), Option.isSome(profile))
      )
      return yield* new CliExit({ code: ExitCode.failure })
    }
    const reports = yield* loadAllStatuses(storeCommandOptions({ ...options, profile }))
    yield* options.json
      ? withJsonOutput((output) => output.printJson(Schema.Array(output.CliEvents.StatusReport), reports))
      : Console.log(statusTable(reports, yield* DateTime.now))
    if (!reports.some((report) => report.logged_in)) return yield* new CliExit({ code: ExitCode.failure })
  }).pipe(withSafeConsole)
