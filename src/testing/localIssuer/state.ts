import { takeFault } from "./faults.js"
import type { Fault, LocalIssuerKnobs, LocalIssuerRequest, LocalIssuerStats } from "./types.js"

/** What a running issuer remembers besides its codes and tokens: the knobs a test turns, counters and the request log. */
export interface IssuerState {
  readonly knobs: () => LocalIssuerKnobs
  readonly setKnobs: (patch: Partial<LocalIssuerKnobs>) => void
  readonly stats: () => LocalIssuerStats
  readonly count: (key: keyof LocalIssuerStats) => void
  /** Consumes one of the `slowDownPolls` a test queued, counting it; false when none is left. */
  readonly takeSlowDown: () => boolean
  /** Consumes one use of the first fault queued for `path`, counting it. */
  readonly takeFault: (path: string) => Fault | undefined
  readonly log: (request: LocalIssuerRequest) => void
  /** Every request logged so far, oldest first. */
  readonly requests: () => ReadonlyArray<LocalIssuerRequest>
}

const emptyStats: LocalIssuerStats = {
  usercode: 0,
  poll: 0,
  deviceAuthorization: 0,
  devicePoll: 0,
  discovery: 0,
  exchange: 0,
  refresh: 0,
  tokenExchange: 0,
  revoke: 0,
  devicePage: 0,
  authorizePage: 0,
  slowDown: 0,
  refreshTokenReused: 0,
  faults: 0,
  notFound: 0,
  me: 0
}

/** Makes the state of a new issuer: every knob at rest but the access-token lifetime, no counts, an empty log. */
export const makeIssuerState = (options: { readonly accessTokenTtlSeconds: number }): IssuerState => {
  let knobs: LocalIssuerKnobs = {
    slowDownPolls: 0,
    deviceCodeDisabled: false,
    discovery: "normal",
    faults: [],
    accessTokenTtlSeconds: options.accessTokenTtlSeconds,
    mismatchedPkce: false,
    refreshDelayMillis: 0,
    authorizeError: null,
    authorizeIss: "normal",
    idTokenNonce: "echo",
    apiKeyExchange: "normal"
  }
  let stats = emptyStats
  const log: Array<LocalIssuerRequest> = []
  const count = (key: keyof LocalIssuerStats) => {
    stats = { ...stats, [key]: stats[key] + 1 }
  }
  return {
    knobs: () => knobs,
    setKnobs: (patch) => {
      knobs = { ...knobs, ...patch }
    },
    stats: () => stats,
    count,
    takeSlowDown: () => {
      if (knobs.slowDownPolls <= 0) return false
      knobs = { ...knobs, slowDownPolls: knobs.slowDownPolls - 1 }
      count("slowDown")
      return true
    },
    takeFault: (path) => {
      const [fault, faults] = takeFault(knobs.faults, path)
      if (fault === undefined) return undefined
      knobs = { ...knobs, faults }
      count("faults")
      return fault
    },
    log: (request) => {
      log.push(request)
    },
    requests: () => [...log]
  }
}
