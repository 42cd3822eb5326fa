// The services `status` and `token` run with, for their commands and for the fast path alike (no @effect/cli, and
// none of the handlers' modules: `status --help` loads neither).
import { authOptions, storeCommandOptions } from "./authOptions.js"
import { sessionFor, storeFor } from "./CliLayers.js"
import type { StatusInput } from "./statusRun.js"
import type { TokenInput } from "./tokenRun.js"

/** The services `status` runs with: the setup and the store only (no network). */
export const statusLayer = ({ selection: { profile }, ...options }: StatusInput) =>
  storeFor(storeCommandOptions({ ...options, profile }))

/** The services `token` runs with: the session, its store and the setup; the issuer modules on a first refresh. */
export const tokenLayer = (options: TokenInput) => sessionFor(authOptions(options))
