import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type { SignInOrigin } from "../domain/StoredAuth.js"
import type { DeviceAuthorization } from "./DeviceAuthorization.js"

/**
 * The wire calls of the dialect and issuer a stored sign-in was made with, so refresh and logout go back to it.
 * No origin means codex's default issuer and client id.
 */
export class IssuerResolver extends Context.Tag("devicecode/IssuerResolver")<
  IssuerResolver,
  {
    readonly forSignIn: (origin: Option.Option<SignInOrigin>) => Effect.Effect<DeviceAuthorization["Type"]>
  }
>() {}
