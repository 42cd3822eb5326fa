import type { DeviceCodes } from "./codes.js"
import type { IssuerState } from "./state.js"
import type { Tokens } from "./tokens.js"

/** What a dialect's handlers share with the issuer that routes to them. */
export interface IssuerContext extends Pick<IssuerState, "count" | "knobs" | "takeSlowDown"> {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  readonly codes: DeviceCodes
  readonly tokens: Tokens
}
