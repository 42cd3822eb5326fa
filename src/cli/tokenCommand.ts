import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { jwtExpiry } from "../domain/IdTokenClaims.js"
import * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { AuthSession } from "../services/AuthSession.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { authOptions, profile, store, verbose } from "./environment.js"
import { jsonOption, withJsonOutput } from "./jsonFlag.js"
import { noColor, withSafeConsole } from "./terminal.js"

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
const json = jsonOption(
  "Print {access_token, expires_at, profile} as one JSON object on stdout instead of the bare token"
)

export const tokenCommand = Command.make("token", { json, profile, store, noColor, verbose }, (options) =>
  Effect.gen(function* () {
    const token = yield* Effect.flatMap(AuthSession, (session) => session.accessToken)
    if (!options.json) return yield* Console.log(Redacted.value(token))
    const { target } = yield* DeviceCodeAuth.Setup
    const expiresAt = yield* expiryOf(token)
    yield* withJsonOutput(({ CliEvents, printJson }) =>
      printJson(
        CliEvents.TokenOutput,
        new CliEvents.TokenOutput({ accessToken: token, expiresAt, profile: target.profile })
      )
    )
  }).pipe(withSafeConsole)
)
  .pipe(Command.provide((options) => authFor(authOptions(options))))
  .pipe(
    Command.withDescription(
      described(
        "Print a fresh access token and nothing else (refreshed first when it is about to expire); exit 1 if not logged in or the refresh token is dead",
        "devicecode token --json"
      )
    )
  )
