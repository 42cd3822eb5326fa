import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codexEndpoints } from "../domain/CodexWire.js"
import { sanitize } from "../domain/Sanitize.js"
import { loadTestKit } from "./demoCommand.js"
import { described } from "./described.js"
import { verbose } from "./environment.js"

const port = Options.integer("port").pipe(
  Options.withDefault(0),
  Options.withDescription("The port to listen on, on 127.0.0.1 (default: a free one)")
)
const autoApprove = Options.integer("auto-approve").pipe(
  Options.optional,
  Options.withDescription("Approve each code this many seconds after it is issued")
)

/** `devicecode issuer`: the LocalIssuer on its own, until stopped. */
export const issuerCommand = Command.make("issuer", { port, autoApprove, verbose }, (options) =>
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
          onSome: (seconds) => ({ autoApproveAfter: Duration.seconds(Math.max(0, seconds)) })
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
