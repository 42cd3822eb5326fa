import { NodeContext, NodeHttpClient, NodeRuntime } from "@effect/platform-node"
import { Console, Effect, Layer, Option } from "effect"
import { CodexIssuer, Config, FileStore, login, type LoginEvent, WorkspacePolicyLive } from "devicecode"

// Progress: show the prompt, report the rest on stderr.
const onEvent = (event: LoginEvent): Effect.Effect<void> => {
  switch (event._tag) {
    case "CodeIssued":
      return Console.log(`Open ${event.code.verificationUri} and enter ${event.code.userCode}`)
    case "SlowedDown":
    case "Retrying":
    case "Approved":
      return Console.error(event._tag)
    default:
      return Effect.void
  }
}

const program = Effect.gen(function* () {
  const codexHome = yield* Config.resolveCodexHome // $CODEX_HOME, else ~/.codex
  const config = yield* Config.loadCodexConfig(codexHome) // $CODEX_HOME/config.toml
  const issuer = process.env.ISSUER ?? "https://auth.openai.com"

  const LoginLive = Layer.mergeAll(
    CodexIssuer.layer({ issuer }), // codex's client id by default
    FileStore.layer(FileStore.authJsonPath(codexHome)),
    WorkspacePolicyLive.layerFromConfig(config)
  )

  const result = yield* login({ onEvent }).pipe(Effect.provide(LoginLive))
  yield* Console.log(`Signed in as ${Option.getOrElse(result.claims.email, () => "?")}; saved to ${result.location}`)
})

program.pipe(Effect.provide(Layer.mergeAll(NodeHttpClient.layer, NodeContext.layer)), NodeRuntime.runMain)
