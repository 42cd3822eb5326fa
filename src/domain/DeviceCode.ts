import * as Duration from "effect/Duration"
import * as Schema from "effect/Schema"

/** A device code issued to this login: what the person types, where, and how the client polls for it. */
export class DeviceCode extends Schema.Class<DeviceCode>("DeviceCode")({
  /** The secret handle the client polls with (Codex: `device_auth_id`; RFC 8628: `device_code`). */
  deviceCode: Schema.RedactedFromSelf(Schema.String),
  userCode: Schema.String,
  verificationUri: Schema.String,
  verificationUriComplete: Schema.OptionFromSelf(Schema.String),
  interval: Schema.DurationFromSelf,
  expiresAt: Schema.OptionFromSelf(Schema.DateTimeUtcFromSelf)
}) {}

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
