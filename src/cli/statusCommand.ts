import { Command, Options } from "@effect/cli"
import type { FileSystem, Path } from "@effect/platform"
import { Console, DateTime, Duration, Effect, Either, Option, Redacted } from "effect"
import type { StoreError } from "../domain/Errors.js"
import { emptyClaims, jwtExpiry, parseIdTokenClaims } from "../domain/IdTokenClaims.js"
import { authMethod, type AuthMethod, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { type CommandEnv, loadEnvironment, storeLayer, verbose } from "./environment.js"
import { CliExit, ExitCode } from "./exit.js"
import { humanDuration } from "./render.js"

/** codex's masking of an API key: first 8 characters, `***`, last 5; 13 characters or fewer → `***`. */
export const maskApiKey = (key: string): string => (key.length <= 13 ? "***" : `${key.slice(0, 8)}***${key.slice(-5)}`)

/** What `status` reports, without a single secret in it. */
export interface StatusReport {
  readonly logged_in: boolean
  readonly method?: AuthMethod
  readonly email?: string | null
  readonly plan?: string | null
  readonly account_id?: string | null
  readonly access_token_expires_at?: string | null
  readonly api_key?: string
  readonly issuer?: string
  readonly store: string
}

/** Describes a stored sign-in. */
export const describeAuth = (auth: Option.Option<StoredAuth>, location: string): StatusReport =>
  Option.match(
    Option.flatMap(auth, (a) => Option.map(authMethod(a), (method) => [a, method] as const)),
    {
      onNone: () => ({ logged_in: false, store: location }),
      onSome: ([auth, method]) => {
        const issuer = Option.match(auth.origin, {
          onNone: () => ({}),
          onSome: (origin) => ({ issuer: origin.issuer })
        })
        if (method === "apikey") {
          const key = Option.match(auth.apiKey, { onNone: () => "***", onSome: (k) => maskApiKey(Redacted.value(k)) })
          return { logged_in: true, method, api_key: key, ...issuer, store: location }
        }
        const tokens = Option.getOrThrow(auth.tokens)
        const claims = Option.match(tokens.idToken, {
          onNone: () => emptyClaims,
          onSome: (idToken) => Either.getOrElse(parseIdTokenClaims(idToken), () => emptyClaims)
        })
        return {
          logged_in: true,
          method,
          email: Option.getOrNull(claims.email),
          plan: Option.getOrNull(claims.plan),
          account_id: Option.getOrNull(Option.orElse(tokens.accountId, () => claims.accountId)),
          access_token_expires_at: Option.getOrNull(Option.map(jwtExpiry(tokens.accessToken), DateTime.formatIso)),
          ...issuer,
          store: location
        }
      }
    }
  )

const expiryText = (iso: string | null | undefined, now: DateTime.Utc): string => {
  if (!iso) return "unknown"
  const left = DateTime.distance(now, DateTime.unsafeMake(iso))
  return left > 0 ? `${iso} (in ${humanDuration(Duration.millis(left))})` : `${iso} (expired)`
}

/** The text `status` prints. */
export const statusText = (report: StatusReport, now: DateTime.Utc): string => {
  if (!report.logged_in) return "Not logged in"
  const lines =
    report.method === "apikey"
      ? [`Logged in using an API key - ${report.api_key}`]
      : [
          "Logged in using ChatGPT",
          `  Email:         ${report.email ?? "unknown"}`,
          `  Plan:          ${report.plan ?? "unknown"}`,
          `  Account id:    ${report.account_id ?? "none"}`,
          `  Access token:  expires ${expiryText(report.access_token_expires_at, now)}`
        ]
  if (report.issuer) lines.push(`  Issuer:        ${report.issuer}`)
  lines.push(`  Stored in:     ${report.store}`)
  return lines.join("\n")
}

/** Loads and describes the sign-in of an environment; reads only, never the network. */
export const loadStatus = (
  env: CommandEnv
): Effect.Effect<StatusReport, StoreError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    return describeAuth(yield* store.load, store.location)
  }).pipe(Effect.provide(storeLayer(env)))

/** Prints a status report; not logged in ends with exit code 1. */
export const printStatus = (report: StatusReport, json: boolean): Effect.Effect<void, CliExit> =>
  Effect.gen(function* () {
    yield* Console.log(json ? JSON.stringify(report) : statusText(report, yield* DateTime.now))
    if (!report.logged_in) return yield* new CliExit({ code: ExitCode.failure })
  })

const json = Options.boolean("json").pipe(Options.withDescription("Print one JSON object instead of text"))

/** `devicecode status`. */
export const statusCommand = Command.make("status", { json, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment()
    yield* printStatus(yield* loadStatus(env), options.json)
  })
).pipe(Command.withDescription("Show who is signed in and where the sign-in is stored (no network); exit 1 if nobody"))
