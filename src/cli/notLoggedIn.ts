// What `status` and `token` say when the chosen store holds no sign-in: a sign-in of the profile in the other kind of
// store, the other profiles, or how to log in. No @effect/cli here; `token` loads it without `status`'s report code.
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as FileSystem from "@effect/platform/FileSystem"
import type { CredentialsStoreKind } from "../domain/CodexConfig.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import { sanitize } from "../domain/Sanitize.js"
import { authJsonPath, listProfiles } from "../layers/FileStore.js"
import { Setup } from "../layers/setup.js"
import { describeSignIn } from "../services/describeSignIn.js"
import { type AuthOptions, CliLayers, type Platform } from "./CliLayers.js"

/** The profiles named in CODEX_HOME (besides the default one); none if the directory cannot be read. */
const namedProfiles: Effect.Effect<ReadonlyArray<string>, never, Setup | FileSystem.FileSystem> = Effect.flatMap(
  Setup,
  ({ codexHome }) => listProfiles(codexHome).pipe(Effect.orElseSucceed((): ReadonlyArray<string> => []))
)

/** What a plain `status` says when nobody is signed in by default but other profiles exist. */
export const noDefaultText = (profiles: ReadonlyArray<string>): string =>
  sanitize(
    `Not logged in: there is no default sign-in. Other profiles: ${profiles.join(", ")}\n` +
      "  See them all with devicecode status --all, or pick one with --profile NAME.",
    { multiline: true }
  )

/** A sign-in of the profile in a store kind other than the one chosen: which kind, and where, for people. */
export interface SignInElsewhere {
  readonly kind: "file" | "keyring"
  /** `the keyring`, or the auth file's path. */
  readonly where: string
}

const commandLine = (command: string, profile: string, store: CredentialsStoreKind | undefined): string =>
  [
    "devicecode",
    command,
    ...(store === undefined ? [] : ["--store", store]),
    ...(profile === DEFAULT_PROFILE ? [] : ["--profile", profile])
  ].join(" ")

/**
 * What `command` says when the store it chose holds no sign-in of `profile`: where a sign-in of it is stored instead,
 * or the command that signs in (with the `--store` given, if one was, so that the sign-in goes where it was looked for).
 */
export const notLoggedInText = (
  profile: string,
  command: "status" | "token",
  options: { readonly store?: CredentialsStoreKind; readonly elsewhere?: SignInElsewhere } = {}
): string =>
  sanitize(
    options.elsewhere === undefined
      ? `Not logged in. To log in, run: ${commandLine("login", profile, options.store === "ephemeral" ? undefined : options.store)}`
      : `Not logged in. A sign-in is stored in ${options.elsewhere.where}: run ${commandLine(command, profile, options.elsewhere.kind)}`
  )

/**
 * Whether a look in the OS keyring can neither ask the person anything nor wait for a Secret Service that is not
 * there: on Windows, yes; on macOS, no (the Keychain may ask to allow access to an entry codex made); elsewhere only
 * with a D-Bus session, named in the environment or at `$XDG_RUNTIME_DIR/bus` (the path returned, to be checked).
 */
export const keyringLookup = (
  platform: string,
  env: Readonly<Record<string, string | undefined>>
): boolean | { readonly ifExists: string } => {
  if (platform === "win32") return true
  if (platform === "darwin") return false
  if (env.DBUS_SESSION_BUS_ADDRESS) return true
  return env.XDG_RUNTIME_DIR ? { ifExists: `${env.XDG_RUNTIME_DIR}/bus` } : false
}

const keyringNearby: Effect.Effect<boolean, never, FileSystem.FileSystem> = Effect.suspend(() => {
  const lookup = keyringLookup(process.platform, process.env)
  return typeof lookup === "boolean"
    ? Effect.succeed(lookup)
    : Effect.flatMap(FileSystem.FileSystem, (fs) => fs.exists(lookup.ifExists).pipe(Effect.orElseSucceed(() => false)))
})

// a keyring that answers at all answers within milliseconds; one that hangs must not hold up a "not logged in"
const ELSEWHERE_BOUND = Duration.seconds(1)

/**
 * When the chosen store holds no sign-in of the setup's profile: a sign-in of it in the other kind of store, looked for
 * without prompting and within {@link ELSEWHERE_BOUND} — in auth.json beside a keyring, in the keyring beside auth.json
 * where {@link keyringLookup} allows it. `auto` reads both already, `ephemeral` is nobody's: nothing is looked at.
 * Anything that fails or takes longer finds nothing.
 */
export const signInElsewhere = (
  options: AuthOptions
): Effect.Effect<Option.Option<SignInElsewhere>, never, CliLayers | Setup | Platform> =>
  Effect.gen(function* () {
    const { codexHome, store, target } = yield* Setup
    const kind = store === "keyring" ? "file" : store === "file" && (yield* keyringNearby) ? "keyring" : undefined
    if (kind === undefined) return Option.none()
    const layers = yield* CliLayers
    const other = layers.store({
      ...options,
      codexHome,
      profile: target.profile,
      store: kind,
      configErrors: "warn",
      onConfigWarning: () => Effect.void
    })
    const found = yield* describeSignIn.pipe(
      Effect.map((description) => Option.isSome(description.signIn)),
      Effect.provide(other),
      Effect.timeout(ELSEWHERE_BOUND),
      Effect.orElseSucceed(() => false)
    )
    if (!found) return Option.none()
    const where = kind === "keyring" ? "the keyring" : authJsonPath(codexHome, target.profile)
    return Option.some<SignInElsewhere>({ kind, where })
  })

/**
 * What `command` prints when the chosen store holds no sign-in: a sign-in in another store ({@link signInElsewhere});
 * else, for the default profile when no `--profile` was `named`, the other profiles ({@link noDefaultText}); else how
 * to log in ({@link notLoggedInText}).
 */
export const notLoggedInHelp = (
  command: "status" | "token",
  options: AuthOptions,
  named: boolean
): Effect.Effect<string, never, CliLayers | Setup | Platform> =>
  Effect.gen(function* () {
    const { target } = yield* Setup
    const elsewhere = yield* signInElsewhere(options)
    if (Option.isSome(elsewhere)) return notLoggedInText(target.profile, command, { elsewhere: elsewhere.value })
    const others = named || target.profile !== DEFAULT_PROFILE ? [] : yield* namedProfiles
    if (others.length > 0) return noDefaultText(others)
    return notLoggedInText(target.profile, command, options.store === undefined ? {} : { store: options.store })
  })
