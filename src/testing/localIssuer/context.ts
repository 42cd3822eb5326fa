import type { LocalIssuerKnobs, LocalIssuerStats } from "../LocalIssuer.js"
import type { DeviceCodes } from "./codes.js"
import type { Tokens } from "./tokens.js"

/** What a dialect's handlers share with the issuer that routes to them. */
export interface IssuerContext {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly codes: DeviceCodes
  readonly tokens: Tokens
  readonly count: (key: keyof LocalIssuerStats) => void
  readonly knobs: () => LocalIssuerKnobs
  /** Consumes one of the `slowDownPolls` a test queued; false when none is left. */
  readonly takeSlowDown: () => boolean
}
