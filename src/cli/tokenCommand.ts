import { Command } from "@effect/cli"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import * as AuthSessionLive from "../layers/AuthSessionLive.js"
import * as IssuerResolverLive from "../layers/IssuerResolverLive.js"
import { AuthSession } from "../services/AuthSession.js"
import { httpLayer, loadEnvironment, profile, store, storeLayer, verbose } from "./environment.js"

/** `devicecode token`: a fresh access token on stdout and nothing else, for `curl -H "Authorization: Bearer …"`. */
export const tokenCommand = Command.make("token", { profile, store, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment({ store: options.store })
    const http = yield* httpLayer(options.verbose)
    const session = AuthSessionLive.layer().pipe(
      Layer.provide(
        Layer.mergeAll(
          storeLayer(
            env,
            Option.getOrElse(options.profile, () => DEFAULT_PROFILE)
          ),
          Layer.provide(IssuerResolverLive.layer, http)
        )
      )
    )
    const token = yield* Effect.flatMap(AuthSession, (s) => s.accessToken).pipe(Effect.provide(session))
    yield* Console.log(Redacted.value(token))
  })
).pipe(
  Command.withDescription(
    "Print a fresh access token and nothing else (refreshed first when it is about to expire); exit 1 if not logged in or the refresh token is dead"
  )
)
