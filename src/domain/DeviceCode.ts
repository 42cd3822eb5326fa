import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"

/** A device code issued to this login: what the person types, where, and how the client polls for it. */
export class DeviceCode extends Data.Class<{
  /** The secret handle the client polls with (Codex: `device_auth_id`; RFC 8628: `device_code`). */
  readonly deviceCode: Redacted.Redacted<string>
  readonly userCode: string
  readonly verificationUri: string
  readonly verificationUriComplete: Option.Option<string>
  readonly interval: Duration.Duration
  readonly expiresAt: Option.Option<DateTime.Utc>
}> {}

/** The default polling interval when a server names none (RFC 8628 §3.2 and codex). */
export const defaultInterval = Duration.seconds(5)

/** The shortest interval ever polled at, whatever a server says. */
export const minimumInterval = Duration.seconds(1)

/**
 * Reads a polling interval the way the live servers send it: a number, a string of seconds, or nothing.
 * Anything unreadable falls back to 5 s; nothing polls faster than once a second.
 */
export const parseInterval = (raw: unknown): Duration.Duration => {
  const seconds = typeof raw === "number" ? raw : typeof raw === "string" && raw.trim() !== "" ? Number(raw) : NaN
  if (!Number.isFinite(seconds)) return defaultInterval
  return Duration.max(Duration.seconds(seconds), minimumInterval)
}
