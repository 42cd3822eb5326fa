import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { codexEndpoints } from "../domain/CodexConstants.js"
import { sanitize } from "../domain/Sanitize.js"
import { loadTestKit } from "./demoCommand.js"
import { described } from "./described.js"
import { noColor, verbose, wholeNumber } from "./environment.js"

const port = wholeNumber("port", "PORT", 0, 65_535).pipe(
  Options.withDefault(0),
  Options.withDescription("The port to listen on, on 127.0.0.1 (default 0: a free one)")
)
const autoApprove = wholeNumber("auto-approve", "SECONDS", 0, 86_400).pipe(
  Options.optional,
  Options.withDescription("Approve each code this many seconds (0 to 86400) after it is issued")
)

/** The issuer could not listen on the port asked for. */
export class ListenError extends Data.TaggedError("ListenError")<{ readonly port: number; readonly detail: string }> {
  override get message(): string {
    return `could not listen on 127.0.0.1:${this.port}: ${this.detail}`
  }
}

// LocalIssuer dies when it cannot listen (a test kit's server has nothing better to do); here it is the person's port
const listening = <A, R>(port: number, make: Effect.Effect<A, never, R>): Effect.Effect<A, ListenError, R> =>
  make.pipe(
    Effect.catchAllDefect((defect) => {
      const code = (defect as { readonly code?: unknown } | undefined)?.code
      return code === "EADDRINUSE" || code === "EACCES"
        ? Effect.fail(
            new ListenError({
              port,
              detail:
                code === "EADDRINUSE"
                  ? "the port is taken by another program; choose another with --port (0: a free one)"
                  : "this user may not listen on that port; choose another with --port (0: a free one)"
            })
          )
        : Effect.die(defect)
    })
  )

/** `devicecode issuer`: the LocalIssuer on its own, until stopped. */
export const issuerCommand = Command.make("issuer", { port, autoApprove, noColor, verbose }, (options) =>
  Effect.scoped(
    Effect.gen(function* () {
      const { LocalIssuer } = yield* loadTestKit
      const issuer = yield* listening(
        options.port,
        LocalIssuer.make({
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
      )
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
