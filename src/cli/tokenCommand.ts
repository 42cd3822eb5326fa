import { Command } from "@effect/cli"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import * as CliEvents from "../domain/CliEvents.js"
import { jwtExpiry } from "../domain/IdTokenClaims.js"
import { DEFAULT_PROFILE } from "../domain/Profile.js"
import * as AuthSessionLive from "../layers/AuthSessionLive.js"
import * as IssuerResolverLive from "../layers/IssuerResolverLive.js"
import { AuthSession } from "../services/AuthSession.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { described } from "./described.js"
import { httpLayer, loadEnvironment, profile, store, storeLayer, verbose } from "./environment.js"
import { json, printJson } from "./jsonOutput.js"

/** When `token` expires: the stored expiry when the store still holds it, else the JWT's `exp`; an API key never. */
const expiryOf = (token: Redacted.Redacted<string>) =>
  Effect.map(
    Effect.flatMap(CredentialStore, (store) => store.load),
    (stored) =>
      Option.flatMap(stored, (auth) => auth.tokens).pipe(
        Option.filter((tokens) => Redacted.value(tokens.accessToken) === Redacted.value(token)),
        Option.flatMap((tokens) => tokens.expiresAt),
        Option.orElse(() => jwtExpiry(token))
      )
  )

/** `devicecode token`: a fresh access token on stdout and nothing else, for `curl -H "Authorization: Bearer …"`. */
export const tokenCommand = Command.make("token", { json, profile, store, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment({ store: options.store })
    const http = yield* httpLayer(options.verbose)
    const profileName = Option.getOrElse(options.profile, () => DEFAULT_PROFILE)
    const session = AuthSessionLive.layer().pipe(
      Layer.provideMerge(Layer.mergeAll(storeLayer(env, profileName), Layer.provide(IssuerResolverLive.layer, http)))
    )
    yield* Effect.gen(function* () {
      const token = yield* Effect.flatMap(AuthSession, (s) => s.accessToken)
      if (!options.json) return yield* Console.log(Redacted.value(token))
      yield* printJson(
        CliEvents.TokenOutput,
        new CliEvents.TokenOutput({ accessToken: token, expiresAt: yield* expiryOf(token), profile: profileName })
      )
    }).pipe(Effect.provide(session))
  })
).pipe(
  Command.withDescription(
    described(
      "Print a fresh access token and nothing else (refreshed first when it is about to expire); exit 1 if not logged in or the refresh token is dead",
      "devicecode token --json"
    )
  )
)
