import { Command, HelpDoc, Options, ValidationError } from "@effect/cli"
import type { FileSystem, Path } from "@effect/platform"
import { Console, Effect, Layer, Option, Redacted } from "effect"
import { CODEX_CLIENT_ID, CODEX_DEFAULT_ISSUER, normalizeIssuer } from "../domain/CodexWire.js"
import { ApiKeyInputError, type StoreError } from "../domain/Errors.js"
import { apiKeyAuth } from "../domain/StoredAuth.js"
import * as CodexIssuer from "../layers/CodexIssuer.js"
import * as WorkspacePolicyLive from "../layers/WorkspacePolicyLive.js"
import { CredentialStore } from "../services/CredentialStore.js"
import { login, type LoginError } from "../services/login.js"
import type { CliLayers } from "./CliLayers.js"
import { type CommandEnv, httpLayer, loadEnvironment, storeLayer, verbose } from "./environment.js"
import { renderLoginEvent, whoText } from "./render.js"

/** An http(s) URL option; anything else is a usage error. */
export const urlOption = (name: string, fallback: string) =>
  Options.text(name).pipe(
    Options.withDefault(fallback),
    Options.mapEffect((value) => {
      try {
        const url = new URL(value)
        if (url.protocol === "https:" || url.protocol === "http:") return Effect.succeed(normalizeIssuer(value))
      } catch {
        // reported below
      }
      return Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--${name} must be an http(s) URL, got "${value}"`)))
    })
  )

const issuer = urlOption("issuer", CODEX_DEFAULT_ISSUER).pipe(
  Options.withDescription("The issuer to sign in with (default: codex's, https://auth.openai.com)")
)
const clientId = Options.text("client-id").pipe(
  Options.withDefault(CODEX_CLIENT_ID),
  Options.withDescription("The OAuth client id (default: codex's)")
)
const withApiKey = Options.boolean("with-api-key").pipe(
  Options.withDescription("Store an API key read from stdin instead of signing in with a device code")
)

/** Device-code login against a Codex-dialect issuer, rendered on the terminal. */
export const deviceLogin = (
  env: CommandEnv,
  options: { readonly issuer: string; readonly clientId: string; readonly verbose: boolean }
): Effect.Effect<void, LoginError, CliLayers | FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const http = yield* httpLayer(options.verbose)
    const layer = Layer.mergeAll(
      CodexIssuer.layer({ issuer: options.issuer, clientId: options.clientId }).pipe(Layer.provide(http)),
      storeLayer(env),
      WorkspacePolicyLive.layerFromConfig(env.config)
    )
    const result = yield* login({ onEvent: renderLoginEvent }).pipe(
      Effect.provide(layer),
      Effect.onInterrupt(() => Console.error("\nLogin cancelled"))
    )
    yield* Console.log(`Successfully logged in as ${whoText(result.claims)}`)
  })

const readStdin = Effect.promise(async () => {
  const chunks: Array<Buffer> = []
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)))
  return Buffer.concat(chunks).toString("utf8")
})

/** `login --with-api-key`: the key from stdin, stored in codex's API-key shape. */
export const apiKeyLogin = (
  env: CommandEnv
): Effect.Effect<void, ApiKeyInputError | StoreError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    if (process.stdin.isTTY) return yield* new ApiKeyInputError({ reason: "Terminal" })
    const key = (yield* readStdin).trim()
    if (key === "") return yield* new ApiKeyInputError({ reason: "Empty" })
    const store = yield* CredentialStore
    yield* store.locked(
      Effect.gen(function* () {
        const previous = yield* store.load.pipe(
          Effect.catchIf(
            (error) => error.reason === "Corrupt",
            () => Effect.succeedNone
          )
        )
        yield* store.save(
          apiKeyAuth(Redacted.make(key), Option.match(previous, { onNone: () => [], onSome: (p) => p.extra }))
        )
      })
    )
    yield* Console.log("Successfully logged in using an API key")
  }).pipe(Effect.provide(storeLayer(env)))

/** `devicecode login`. */
export const loginCommand = Command.make("login", { issuer, clientId, withApiKey, verbose }, (options) =>
  Effect.gen(function* () {
    const env = yield* loadEnvironment()
    if (options.withApiKey) return yield* apiKeyLogin(env)
    yield* deviceLogin(env, options)
  })
).pipe(Command.withDescription("Sign in with a device code (Codex dialect), or store an API key with --with-api-key"))
