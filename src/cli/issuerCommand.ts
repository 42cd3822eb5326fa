import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codexEndpoints } from "../domain/CodexWire.js"
import { sanitize } from "../domain/Sanitize.js"
import { loadTestKit } from "./demoCommand.js"
import { described } from "./described.js"
import { verbose } from "./environment.js"
import { noColor } from "./terminal.js"

/** An integer option's value checked against `[min, max]`: out of range is a usage error (exit 2). */
const inRange = (flag: string, min: number, max: number) => (value: number) =>
  value >= min && value <= max
    ? Effect.succeed(value)
    : Effect.fail(ValidationError.invalidValue(HelpDoc.p(`${flag} must be between ${min} and ${max}, not ${value}`)))

const port = Options.integer("port").pipe(
  Options.withDefault(0),
  Options.mapEffect(inRange("--port", 0, 65_535)),
  Options.withDescription("The port to listen on, on 127.0.0.1 (default 0: a free one)")
)
const autoApprove = Options.integer("auto-approve").pipe(
  Options.mapEffect(inRange("--auto-approve", 0, 86_400)),
  Options.optional,
  Options.withDescription("Approve each code this many seconds (0 to 86400) after it is issued")
)

/** `devicecode issuer`: the LocalIssuer on its own, until stopped. */
export const issuerCommand = Command.make("issuer", { port, autoApprove, noColor, verbose }, (options) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { LocalIssuer } = yield* loadTestKit
      const issuer = yield* LocalIssuer.make({
        port: options.port,
        ...(options.verbose
          ? {
              onRequest: (request: { readonly method: string; readonly path: string; readonly status: unknown }) =>
                Console.error(sanitize(`[http] ${request.method} ${request.path} -> ${request.status}`))
            }
          : {}),
        ...Option.match(options.autoApprove, {
          onNone: () => ({}),
          onSome: (seconds) => ({ autoApproveAfter: Duration.seconds(seconds) })
        })
      })
      yield* Console.log(JSON.stringify({ issuer: issuer.url }))
      yield* Console.error(
        [
          `Local issuer at ${issuer.url} (Ctrl-C stops it)`,
          `  Codex dialect:  approve codes at ${codexEndpoints(issuer.url).verification}`,
          `  RFC 8628:       discovery at ${issuer.url}/.well-known/openid-configuration, client id "${issuer.oidcClientId}",`,
          `                  approve codes at ${issuer.url}/device`
        ].join("\n")
      )
      return yield* Effect.never
    })
  )
).pipe(
  Command.withDescription(
    described(
      "Run the embedded local issuer until stopped, for developing and testing clients",
      "devicecode issuer --port 8765 --auto-approve 2"
    )
  )
)
