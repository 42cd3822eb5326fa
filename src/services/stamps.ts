import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import { nodeCrypto } from "../domain/nodeCrypto.js"

/** An instant to the nanosecond: a DateTime (milliseconds) and the nanoseconds within its millisecond (0–999 999). */
export interface RefreshStamp {
  readonly at: DateTime.Utc
  readonly nanos: number
}

/** Now, as a record's `lastRefresh` and the nanoseconds within its millisecond, from the Clock (codex-protocol.md §7). */
export const refreshInstant: Effect.Effect<RefreshStamp> = Effect.flatMap(Clock.currentTimeMillis, (millis) =>
  // TestClock's currentTimeNanos throws (BigInt of a fraction) once jittered sleeps leave it between milliseconds:
  // there, the fraction is the sub-millisecond part
  Number.isInteger(millis)
    ? Effect.map(Clock.currentTimeNanos, (ns) => ({
        at: DateTime.unsafeMake(Number(ns / 1_000_000n)),
        nanos: Number(ns % 1_000_000n)
      }))
    : Effect.succeed({
        at: DateTime.unsafeMake(Math.floor(millis)),
        nanos: Math.min(999_999, Math.round((millis - Math.floor(millis)) * 1_000_000))
      })
)

/** A new `login_owner_id`, as codex draws one at each login: 32 random bytes, base64url without padding. */
export const newLoginOwnerId: Effect.Effect<string> = Effect.sync(() =>
  nodeCrypto().randomBytes(32).toString("base64url")
)
