import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import type { DeviceCode } from "./DeviceCode.js"
import type { IdTokenClaims } from "./IdTokenClaims.js"

/** Progress of a login, for a terminal or any app to render. */
export type LoginEvent = Data.TaggedEnum<{
  /** The stored sign-in could not be read; it will be replaced once this login succeeds. */
  StoreUnreadable: { readonly detail: string }
  /** A code was issued: show it. `deadline` is when the login gives up waiting. */
  CodeIssued: { readonly code: DeviceCode; readonly deadline: DateTime.Utc }
  /** A browser login's URL is ready: open it (or show it); the sign-in comes back to 127.0.0.1:`port`. */
  BrowserSignIn: { readonly url: string; readonly port: number }
  /** A poll came back pending; the next one goes out after `nextPollIn`. */
  Waiting: { readonly attempt: number; readonly nextPollIn: Duration.Duration }
  /** The server asked for slower polling; the interval stays this long for the rest of the login. */
  SlowedDown: { readonly interval: Duration.Duration }
  /** A poll hit a transient failure and will be retried after `delay`. */
  Retrying: { readonly detail: string; readonly delay: Duration.Duration }
  /** The code was approved; tokens are being fetched and checked. */
  Approved: {}
  /** The unreadable stored sign-in was moved to `keptAs`, not deleted, before the new one was saved. */
  StoreSetAside: { readonly keptAs: string }
  /** The sign-in this login replaced was revoked at its issuer, or the revocation failed (its tokens stay valid). */
  ReplacedRevoked: { readonly revoked: boolean }
  /** Tokens are stored. */
  LoggedIn: { readonly claims: IdTokenClaims; readonly location: string }
}>

/** Constructors and matchers for {@link LoginEvent}. */
export const LoginEvent = Data.taggedEnum<LoginEvent>()
