import { NodeHttpClient } from "@effect/platform-node"
import { assert, it } from "@effect/vitest"
import { Effect, Layer, Option } from "effect"
import { CodexIssuer, codexEndpoints, CredentialStore, login, WorkspacePolicyLive } from "devicecode"
import { LocalIssuer, MemoryStore, submitUserCode } from "devicecode/testing"

it.scopedLive("signs in against a LocalIssuer", () =>
  Effect.gen(function* () {
    const issuer = yield* LocalIssuer.make({ interval: 1 }) // real HTTP on 127.0.0.1, stopped with the scope

    // Play the person: wait for the code, open the approval page, type it, press Approve.
    yield* issuer.nextCode.pipe(
      Effect.flatMap((userCode) => submitUserCode(codexEndpoints(issuer.url).verification, userCode)),
      Effect.forkScoped
    )

    const TestLive = Layer.mergeAll(
      CodexIssuer.layer({ issuer: issuer.url, clientId: issuer.clientId }).pipe(Layer.provide(NodeHttpClient.layer)),
      MemoryStore.layer(),
      WorkspacePolicyLive.layer(Option.none())
    )
    const stored = yield* Effect.gen(function* () {
      const result = yield* login()
      assert.deepStrictEqual(result.claims.email, Option.some("dev@example.com"))
      return yield* Effect.flatMap(CredentialStore, (store) => store.load)
    }).pipe(Effect.provide(TestLive))

    assert.isTrue(Option.isSome(stored))
  })
)
