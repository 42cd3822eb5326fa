import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Option, Redacted } from "effect"
import { join } from "node:path"
import * as AuthSession from "../src/layers/AuthSession.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { request } from "./support/http.js"
import { loginAt } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

const CALLERS = 10_000

describe("AuthSession over real HTTP", () => {
  it.scopedLive(
    `${CALLERS} concurrent callers across an expiry share one refresh`,
    () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second", accessTokenTtl: 0 })
        const dir = yield* tempDir
        const platform = Layer.mergeAll(NodeHttpClient.layer, NodeFileSystem.layer, NodePath.layer)
        const store = FileStore.layer(join(dir, "auth.json"))

        // sign in through the real Codex dialect; the tokens it gets are born expired
        const record = yield* loginAt(issuer, join(dir, "auth.json"))
        const expired = Redacted.value(Option.getOrThrow(record.tokens).accessToken)
        assert.isTrue(Option.isNone(yield* issuer.verifyAccessToken(expired)))

        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
        const before = yield* issuer.stats
        const sessionLayer = AuthSession.layer().pipe(
          Layer.provideMerge(Layer.mergeAll(store, IssuerResolver.layer)),
          Layer.provide(platform)
        )
        const { stored, tokens } = yield* Effect.gen(function* () {
          const session = yield* AuthSession.AuthSession
          const tokens = yield* Effect.all(
            Array.from({ length: CALLERS }, () => session.accessToken),
            { concurrency: "unbounded" }
          )
          return { tokens: tokens.map(Redacted.value), stored: yield* Effect.flatMap(CredentialStore, (s) => s.load) }
        }).pipe(Effect.provide(sessionLayer))
        const after = yield* issuer.stats

        const fresh = new Set(tokens)
        assert.strictEqual(fresh.size, 1)
        const [token] = fresh
        assert.notStrictEqual(token, expired)
        assert.strictEqual(after.refresh - before.refresh, 1)
        assert.strictEqual(after.refreshTokenReused, 0)
        assert.strictEqual(
          Redacted.value(Option.getOrThrow(Option.getOrThrow(stored).tokens).accessToken),
          token,
          "the refreshed token was saved"
        )

        const me = yield* request(`${issuer.url}/v1/me`, { headers: { authorization: `Bearer ${token}` } })
        assert.strictEqual(me.status, 200, me.text)
        assert.strictEqual(me.json.account_id, "acct_local_0001")
      }),
    30_000
  )
})
