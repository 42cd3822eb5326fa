import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Schema } from "effect"
import { parse } from "smol-toml"
import { CodexConfig, decodeCodexConfig, defaultCodexConfig } from "../src/domain/CodexConfig.js"

const read = (text: string) => decodeCodexConfig(parse(text))

describe("CodexConfig (config.toml → the settings devicecode reads)", () => {
  it.effect("reads the three keys and ignores codex's others", () =>
    Effect.gen(function* () {
      const config = yield* read(
        `model = "o3"\nforced_chatgpt_workspace_id = [" ws-a", "", "ws-b "]\ncli_auth_credentials_store = "keyring"\nforced_login_method = "api"\n[profiles.x]\nforced_login_method = 5\n`
      )
      assert.deepStrictEqual(config, {
        forcedWorkspaceIds: ["ws-a", "ws-b"],
        credentialsStore: Option.some("keyring" as const),
        forcedLoginMethod: Option.some("api" as const)
      })
      assert.deepStrictEqual(yield* read(""), defaultCodexConfig)
      assert.deepStrictEqual((yield* read(`forced_chatgpt_workspace_id = " ws "`)).forcedWorkspaceIds, ["ws"])
    })
  )

  it.effect("names the first wrong key, in the order codex's checks ran, and what it got", () =>
    Effect.gen(function* () {
      const cases: ReadonlyArray<readonly [string, string]> = [
        [`forced_chatgpt_workspace_id = 42`, "forced_chatgpt_workspace_id must be a string or a list of strings"],
        [`forced_chatgpt_workspace_id = ["a", 7]`, "forced_chatgpt_workspace_id must be a string or a list of strings"],
        [
          `cli_auth_credentials_store = "vault"`,
          `cli_auth_credentials_store must be one of file, keyring, auto, ephemeral (got "vault")`
        ],
        [
          `cli_auth_credentials_store = 1979-05-27`,
          "cli_auth_credentials_store must be one of file, keyring, auto, ephemeral (got a value of type object)"
        ],
        [`forced_login_method = "ChatGPT"`, `forced_login_method must be "chatgpt" or "api" (got "ChatGPT")`],
        [`forced_login_method = true`, `forced_login_method must be "chatgpt" or "api" (got a value of type boolean)`],
        [
          `forced_login_method = 1\ncli_auth_credentials_store = 2\nforced_chatgpt_workspace_id = 3`,
          "forced_chatgpt_workspace_id must be a string or a list of strings"
        ],
        [
          `forced_login_method = 1\ncli_auth_credentials_store = 2`,
          "cli_auth_credentials_store must be one of file, keyring, auto, ephemeral (got a value of type number)"
        ]
      ]
      for (const [text, message] of cases) {
        assert.strictEqual(yield* Effect.flip(read(text)), message, text)
      }
    })
  )

  it.effect("writes the settings back as config.toml's keys", () =>
    Effect.gen(function* () {
      const config = yield* read(`forced_chatgpt_workspace_id = "ws"\nforced_login_method = "chatgpt"`)
      assert.deepStrictEqual(yield* Schema.encode(CodexConfig)(config), {
        forced_chatgpt_workspace_id: ["ws"],
        forced_login_method: "chatgpt"
      })
    })
  )
})
