import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import type { StoredAuth } from "../src/domain/StoredAuth.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { enforceLoginRestrictions } from "../src/services/enforceLoginRestrictions.js"
import type { ForcedLoginMethod } from "../src/services/WorkspacePolicy.js"
import { apiKeySignIn, chatgptSignIn, fakeIssuers, oidcSignIn } from "./support/signIns.js"

/** config.toml's rules: `forced_login_method` and `forced_chatgpt_workspace_id`. */
interface Rules {
  readonly method?: ForcedLoginMethod
  readonly workspaces?: ReadonlyArray<string>
}

/** Runs the check over `stored` under `rules`; returns how it ended, what is stored after, and the revocations. */
const enforce = (stored: Option.Option<StoredAuth>, rules: Rules) =>
  Effect.gen(function* () {
    const store = yield* MemoryStore.make(stored)
    const issuers = yield* fakeIssuers()
    const outcome = yield* enforceLoginRestrictions().pipe(
      Effect.provide(
        Layer.mergeAll(
          Layer.succeed(CredentialStore, store),
          WorkspacePolicy.layer(rules.workspaces ?? [], Option.fromNullable(rules.method)),
          issuers.layer
        )
      ),
      Effect.either
    )
    return {
      outcome,
      kept: Option.isSome(yield* store.load),
      revoked: (yield* issuers.revocations).length
    }
  })

describe("enforceLoginRestrictions", () => {
  it.effect("nobody signed in, or no rules: nothing to do", () =>
    Effect.gen(function* () {
      const nobody = yield* enforce(Option.none(), { method: "api", workspaces: ["acct_x"] })
      assert.isTrue(nobody.outcome._tag === "Right")
      const free = yield* enforce(Option.some(chatgptSignIn()), {})
      assert.deepStrictEqual([free.outcome._tag, free.kept, free.revoked], ["Right", true, 0])
    })
  )

  it.effect("an allowed sign-in is kept: the forced method, a workspace among the forced ones", () =>
    Effect.gen(function* () {
      const chatgpt = yield* enforce(Option.some(chatgptSignIn()), {
        method: "chatgpt",
        workspaces: ["acct_other", "acct_test"]
      })
      assert.deepStrictEqual([chatgpt.outcome._tag, chatgpt.kept], ["Right", true])
      const apiKey = yield* enforce(Option.some(apiKeySignIn()), { method: "api", workspaces: ["acct_x"] })
      assert.deepStrictEqual([apiKey.outcome._tag, apiKey.kept], ["Right", true])
    })
  )

  it.effect("forced api: a ChatGPT sign-in is logged out (revoked and removed) and refused with codex's words", () =>
    Effect.gen(function* () {
      const { kept, outcome, revoked } = yield* enforce(Option.some(chatgptSignIn()), { method: "api" })
      assert.isTrue(outcome._tag === "Left")
      if (outcome._tag === "Left") {
        assert.strictEqual(outcome.left._tag, "LoginMethodError")
        assert.strictEqual(outcome.left.message, "ChatGPT login is disabled. Use API key login instead.")
      }
      assert.deepStrictEqual([kept, revoked], [false, 1])
    })
  )

  it.effect("forced chatgpt: an API key is logged out and refused", () =>
    Effect.gen(function* () {
      const { kept, outcome, revoked } = yield* enforce(Option.some(apiKeySignIn()), { method: "chatgpt" })
      assert.isTrue(outcome._tag === "Left" && outcome.left._tag === "LoginMethodError")
      assert.isTrue(outcome._tag === "Left" && "reason" in outcome.left && outcome.left.reason === "ApiKeyDisabled")
      assert.deepStrictEqual([kept, revoked], [false, 0])
    })
  )

  it.effect("a ChatGPT sign-in of another workspace is logged out; the error names the allowed ones", () =>
    Effect.gen(function* () {
      const { kept, outcome, revoked } = yield* enforce(Option.some(chatgptSignIn()), {
        workspaces: ["acct_a", "acct_b"]
      })
      assert.isTrue(outcome._tag === "Left")
      if (outcome._tag === "Left") {
        assert.strictEqual(outcome.left._tag, "WorkspaceError")
        assert.strictEqual(outcome.left.message, "Login is restricted to workspace id(s) acct_a, acct_b.")
      }
      assert.deepStrictEqual([kept, revoked], [false, 1])
    })
  )

  it.effect("the workspace is the id_token's claim, as codex reads it; none at all is MissingClaim", () =>
    Effect.gen(function* () {
      const claimed = yield* enforce(
        Option.some(chatgptSignIn({ accountId: "acct_stored", claimedAccountId: "acct_claimed" })),
        { workspaces: ["acct_claimed"] }
      )
      assert.deepStrictEqual([claimed.outcome._tag, claimed.kept], ["Right", true])
      const missing = yield* enforce(Option.some(chatgptSignIn({ accountId: null })), { workspaces: ["acct_a"] })
      assert.isTrue(
        missing.outcome._tag === "Left" &&
          missing.outcome.left._tag === "WorkspaceError" &&
          missing.outcome.left.reason === "MissingClaim"
      )
      assert.isFalse(missing.kept)
    })
  )

  it.effect("an RFC 8628 sign-in is bound by neither rule", () =>
    Effect.gen(function* () {
      const { kept, outcome, revoked } = yield* enforce(Option.some(oidcSignIn()), {
        method: "api",
        workspaces: ["acct_a"]
      })
      assert.deepStrictEqual([outcome._tag, kept, revoked], ["Right", true, 0])
    })
  )

  it.effect("an API key is bound by the method only, not by the workspace", () =>
    Effect.gen(function* () {
      const { kept, outcome } = yield* enforce(Option.some(apiKeySignIn()), { workspaces: ["acct_a"] })
      assert.deepStrictEqual([outcome._tag, kept], ["Right", true])
    })
  )
})
