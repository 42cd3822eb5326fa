import * as Option from "effect/Option"
import type { CredentialsStoreKind } from "../domain/CodexConfig.js"
import type { AuthOptions } from "./CliLayers.js"

/** The sign-in options every command shares, as {@link AuthOptions}. */
export const authOptions = (options: {
  readonly profile: Option.Option<string>
  readonly store: Option.Option<CredentialsStoreKind>
  readonly verbose: boolean
}): AuthOptions => ({
  ...Option.match(options.profile, { onNone: () => ({}), onSome: (profile) => ({ profile }) }),
  ...Option.match(options.store, { onNone: () => ({}), onSome: (store) => ({ store }) }),
  verbose: options.verbose
})

/**
 * {@link authOptions} for a command that only reads or removes a sign-in (`status`, `logout`): with `--store` given,
 * config.toml has nothing left to decide, so a broken one is a warning and the command goes on with the defaults.
 * Without it, config.toml picks the store and its errors stay fatal.
 */
export const storeCommandOptions = (options: Parameters<typeof authOptions>[0]): AuthOptions => ({
  ...authOptions(options),
  ...(Option.isSome(options.store) ? { configErrors: "warn" as const } : {})
})
