import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { ConfigProvider, Effect, Layer, Option } from "effect"
import * as fsp from "node:fs/promises"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { defaultCodexConfig, loadCodexConfig, resolveCodexHome } from "../src/layers/Config.js"
import { checkLoginMethod, layerFromConfig, WorkspacePolicy } from "../src/services/WorkspacePolicy.js"

const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

const tempDir = Effect.acquireRelease(
  Effect.promise(() => fsp.mkdtemp(join(tmpdir(), "devicecode-config-"))),
  (dir) => Effect.promise(() => fsp.rm(dir, { recursive: true, force: true }))
)

const withEnv = (env: Record<string, string>) =>
  Effect.withConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))

const writeConfig = (dir: string, text: string) => Effect.promise(() => fsp.writeFile(join(dir, "config.toml"), text))

describe("resolveCodexHome", () => {
  it.scoped("uses an existing CODEX_HOME, made canonical", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* Effect.promise(() => fsp.mkdir(join(dir, "real")))
      yield* Effect.promise(() => fsp.symlink(join(dir, "real"), join(dir, "link")))
      const real = yield* Effect.promise(() => fsp.realpath(join(dir, "real")))
      const home = yield* resolveCodexHome.pipe(withEnv({ CODEX_HOME: join(dir, "link", "..", "link") }))
      assert.strictEqual(home, real)
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("fails naming a missing CODEX_HOME", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const missing = join(dir, "nope")
      const error = yield* resolveCodexHome.pipe(withEnv({ CODEX_HOME: missing }), Effect.flip)
      assert.strictEqual(error.reason, "CodexHome")
      assert.strictEqual(error.path, missing)
      assert.include(error.message, missing)
      assert.include(error.message, "does not exist")
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("fails naming a CODEX_HOME that is a file", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const file = join(dir, "file")
      yield* Effect.promise(() => fsp.writeFile(file, ""))
      const error = yield* resolveCodexHome.pipe(withEnv({ CODEX_HOME: file }), Effect.flip)
      assert.strictEqual(error.reason, "CodexHome")
      assert.include(error.message, file)
      assert.include(error.message, "is not a directory")
    }).pipe(Effect.provide(Platform))
  )

  it.effect("defaults to $HOME/.codex when CODEX_HOME is unset or empty, without requiring it", () =>
    Effect.gen(function* () {
      assert.strictEqual(yield* resolveCodexHome.pipe(withEnv({ HOME: "/nonexistent/me" })), "/nonexistent/me/.codex")
      assert.strictEqual(
        yield* resolveCodexHome.pipe(withEnv({ HOME: "/nonexistent/me", CODEX_HOME: "" })),
        "/nonexistent/me/.codex"
      )
    }).pipe(Effect.provide(Platform))
  )
})

describe("loadCodexConfig", () => {
  it.scoped("a missing config.toml gives the defaults", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      const config = yield* loadCodexConfig(dir)
      assert.deepStrictEqual(config.forcedWorkspaceIds, [])
      assert.isTrue(Option.isNone(config.credentialsStore))
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("reads a trimmed forced workspace id and the store kind", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(
        dir,
        [
          `model = "o3"`,
          `forced_chatgpt_workspace_id = "  ws-123 "`,
          `cli_auth_credentials_store = "keyring"`,
          `[other]`,
          `x = 1`
        ].join("\n")
      )
      const config = yield* loadCodexConfig(dir)
      assert.deepStrictEqual(config.forcedWorkspaceIds, ["ws-123"])
      assert.deepStrictEqual(config.credentialsStore, Option.some("keyring"))
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("an empty forced workspace id means none", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `forced_chatgpt_workspace_id = "   "\n`)
      assert.deepStrictEqual((yield* loadCodexConfig(dir)).forcedWorkspaceIds, [])
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("reads a list of forced workspace ids, as codex 0.169 and 0.171 do; anything else is refused", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `forced_chatgpt_workspace_id = [" ws-a", "", "ws-b "]\n`)
      assert.deepStrictEqual((yield* loadCodexConfig(dir)).forcedWorkspaceIds, ["ws-a", "ws-b"])
      yield* writeConfig(dir, `forced_chatgpt_workspace_id = ["ws-a", 7]\n`)
      const refused = yield* Effect.flip(loadCodexConfig(dir))
      assert.include(refused.message, "forced_chatgpt_workspace_id must be a string or a list of strings")
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("a TOML syntax error names the file and line", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `model = "o3"\nforced_chatgpt_workspace_id = = "secret-ish"\n`)
      const error = yield* loadCodexConfig(dir).pipe(Effect.flip)
      assert.strictEqual(error.reason, "ConfigFile")
      assert.include(error.message, join(dir, "config.toml"))
      assert.include(error.message, "line 2")
      assert.notInclude(error.message, "secret-ish")
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("a forced workspace id that is not a string fails", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `forced_chatgpt_workspace_id = 42\n`)
      const error = yield* loadCodexConfig(dir).pipe(Effect.flip)
      assert.include(error.message, "forced_chatgpt_workspace_id must be a string")
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("an unknown store kind lists the allowed values", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `cli_auth_credentials_store = "vault"\n`)
      const error = yield* loadCodexConfig(dir).pipe(Effect.flip)
      assert.strictEqual(error.reason, "ConfigFile")
      assert.include(error.message, "file, keyring, auto, ephemeral")
      assert.include(error.message, `"vault"`)
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("reads forced_login_method: chatgpt or api", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      assert.isTrue(Option.isNone((yield* loadCodexConfig(dir)).forcedLoginMethod))
      yield* writeConfig(dir, `forced_login_method = "api"\n`)
      assert.deepStrictEqual((yield* loadCodexConfig(dir)).forcedLoginMethod, Option.some("api"))
      yield* writeConfig(dir, `forced_login_method = "chatgpt"\n`)
      assert.deepStrictEqual((yield* loadCodexConfig(dir)).forcedLoginMethod, Option.some("chatgpt"))
    }).pipe(Effect.provide(Platform))
  )

  it.scoped("any other forced_login_method fails naming the allowed values", () =>
    Effect.gen(function* () {
      const dir = yield* tempDir
      yield* writeConfig(dir, `forced_login_method = "ChatGPT"\n`)
      const error = yield* loadCodexConfig(dir).pipe(Effect.flip)
      assert.strictEqual(error.reason, "ConfigFile")
      assert.include(error.message, `forced_login_method must be "chatgpt" or "api" (got "ChatGPT")`)
      yield* writeConfig(dir, `forced_login_method = true\n`)
      const again = yield* loadCodexConfig(dir).pipe(Effect.flip)
      assert.include(again.message, "got a value of type boolean")
    }).pipe(Effect.provide(Platform))
  )
})

describe("WorkspacePolicy.layerFromConfig", () => {
  it.effect("layerFromConfig forces the configured workspace and login method", () =>
    Effect.gen(function* () {
      const policy = yield* WorkspacePolicy
      assert.deepStrictEqual(policy.forcedWorkspaceIds, ["ws-1"])
      assert.deepStrictEqual(policy.forcedLoginMethod, Option.some("api"))
      const refused = yield* policy.checkLoginMethod("chatgpt").pipe(Effect.flip)
      assert.strictEqual(refused.message, "ChatGPT login is disabled. Use API key login instead.")
      yield* policy.checkLoginMethod("apikey")
      yield* policy.checkLoginMethod("oidc")
    }).pipe(
      Effect.provide(
        layerFromConfig({
          ...defaultCodexConfig,
          forcedWorkspaceIds: ["ws-1"],
          forcedLoginMethod: Option.some("api")
        })
      )
    )
  )

  it.effect("checkLoginMethod: chatgpt refuses an API key with codex's message; none allows both", () =>
    Effect.gen(function* () {
      const refused = yield* checkLoginMethod(Option.some("chatgpt"), "apikey").pipe(Effect.flip)
      assert.strictEqual(refused._tag, "LoginMethodError")
      assert.strictEqual(refused.message, "API key login is disabled. Use ChatGPT login instead.")
      yield* checkLoginMethod(Option.some("chatgpt"), "chatgpt")
      yield* checkLoginMethod(Option.none(), "apikey")
      yield* checkLoginMethod(Option.none(), "chatgpt")
    })
  )
})
