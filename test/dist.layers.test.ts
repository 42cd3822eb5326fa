// Every exported layer, composed from the built package as a consumer imports it: "devicecode" and
// "devicecode/testing" resolve through package.json `exports` to dist/, never to src/.
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { createHash } from "node:crypto"
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { fakeClient, json } from "./support/fakeHttp.js"
import { tempDir } from "./support/tmp.js"

const root = new URL("..", import.meta.url)
const missing = ["dist/index.js", "dist/index.d.ts", "dist/testing/index.js", "dist/testing/index.d.ts"].filter(
  (file) => !existsSync(new URL(file, root))
)
if (missing.length > 0) {
  throw new Error(`${missing.join(", ")} not found: run \`npm run build\` first (\`npm test\` builds before it tests)`)
}

type Main = typeof import("devicecode")
type Testing = typeof import("devicecode/testing")

/** Imports the build; the specifier is hidden from Vite, which would otherwise fail on a missing dist/ first. */
const importBuilt = <A>(specifier: string): Promise<A> => import(/* @vite-ignore */ specifier)

const {
  AuthenticatedHttpClient,
  AuthSession,
  AutoStore,
  CodexConfig,
  CodexIssuer,
  CredentialStore,
  DeviceCodeAuth,
  Errors,
  FileStore,
  IdTokenClaims,
  IssuerClient,
  IssuerResolver,
  Keyring,
  KeyringStore,
  Login,
  LoginFlow,
  MemoryStore,
  OidcIssuer,
  Pkce,
  StoredAuth,
  WorkspacePolicy
} = await importBuilt<Main>("devicecode")
const Kit = await importBuilt<Testing>("devicecode/testing")
const { LocalIssuer, TestPkce } = Kit

type LoginEvent = import("devicecode").LoginEvent.LoginEvent
type StoredAuth = import("devicecode").StoredAuth.StoredAuth
type SessionToken = import("devicecode").AuthSession.SessionToken

/** RFC 7636's S256 challenge of a verifier, computed here rather than by the package under test. */
const s256Challenge = (verifier: string) => createHash("sha256").update(verifier).digest("base64url")

/** Node's HttpClient, FileSystem and Path: what `DeviceCodeAuth.layer` needs from the platform. */
const Platform = Layer.mergeAll(NodeHttpClient.layer, NodeContext.layer)

/** The sign-in codex 0.169 wrote after a device login against a LocalIssuer. */
const fixture = readFileSync(new URL("test/fixtures/codex-0.169-device-login.auth.json", root), "utf8")
const record: StoredAuth = Either.getOrThrow(StoredAuth.parseStoredAuth(fixture))

/** The protected resource's answer. */
const Me = Schema.Struct({ account_id: Schema.NullOr(Schema.String), client_id: Schema.String })

/** `GET {issuer}/v1/me` through the AuthenticatedHttpClient in context, decoded. */
const getMe = (issuer: { readonly url: string }) =>
  Effect.gen(function* () {
    const api = yield* AuthenticatedHttpClient.AuthenticatedHttpClient
    const response = yield* api.get(`${issuer.url}/v1/me`)
    assert.strictEqual(response.status, 200)
    return yield* HttpClientResponse.schemaBodyJson(Me)(response)
  })

/** A login that records the tags of its events. */
const loginRecording = Effect.gen(function* () {
  const events: Array<LoginEvent["_tag"]> = []
  const result = yield* Login.login({ onEvent: (event) => Effect.sync(() => void events.push(event._tag)) })
  return { result, events }
})

/** An in-memory Keyring, for KeyringStore without a Secret Service. */
const memoryKeyring = () => {
  const entries = new Map<string, string>()
  const key = (service: string, account: string) => `${service}/${account}`
  const layer = Layer.succeed(
    Keyring.Keyring,
    Keyring.Keyring.of({
      get: (service, account) => Effect.sync(() => Option.fromNullable(entries.get(key(service, account)))),
      set: (service, account, secret) => Effect.sync(() => void entries.set(key(service, account), secret)),
      remove: (service, account) => Effect.sync(() => entries.delete(key(service, account)))
    })
  )
  return { entries, layer }
}

/** A Keyring whose every call fails as a missing Secret Service does. */
const brokenKeyring = Layer.succeed(
  Keyring.Keyring,
  Keyring.Keyring.of({
    get: () => Effect.fail(new Errors.StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" })),
    set: () => Effect.fail(new Errors.StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" })),
    remove: () => Effect.fail(new Errors.StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" }))
  })
)

const accountIdOf = (auth: Option.Option<StoredAuth>) =>
  auth.pipe(
    Option.flatMap((found) => found.tokens),
    Option.flatMap((tokens) => tokens.accountId),
    Option.getOrNull
  )

describe("the built package", () => {
  it.effect('"devicecode" and "devicecode/testing" resolve to dist/ through package.json exports', () =>
    Effect.gen(function* () {
      const main = yield* Effect.promise(() => importBuilt<Main>("../dist/index.js"))
      const testing = yield* Effect.promise(() => importBuilt<Testing>("../dist/testing/index.js"))
      assert.strictEqual(main.DeviceCodeAuth, DeviceCodeAuth)
      assert.strictEqual(testing.LocalIssuer, LocalIssuer)
      assert.strictEqual(Kit.MemoryStore, MemoryStore, "the kit's MemoryStore is the library's")
    })
  )
})

describe("DeviceCodeAuth from dist", () => {
  it.scopedLive("layer: login, a fresh token and GET /v1/me share one file store in CODEX_HOME", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "10 millis" })
      const home = yield* tempDir
      const Auth = DeviceCodeAuth.layer({
        codexHome: home,
        store: "file",
        issuer: issuer.url,
        clientId: issuer.clientId
      }).pipe(Layer.provide(Platform))

      yield* Effect.gen(function* () {
        const setup = yield* DeviceCodeAuth.Setup
        assert.strictEqual(setup.store, "file")
        assert.strictEqual(setup.codexHome, realpathSync(home))
        assert.strictEqual(setup.target.dialect, "codex")

        const { events, result } = yield* loginRecording
        assert.strictEqual(Option.getOrNull(result.claims.email), "dev@example.com")
        assert.strictEqual(result.location, `file ${join(realpathSync(home), "auth.json")}`)
        assert.includeMembers(events, ["CodeIssued", "Approved", "LoggedIn"])

        const token = yield* Effect.flatMap(AuthSession.AuthSession, (session) => session.accessToken)
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(Redacted.value(token))))
        const me = yield* getMe(issuer)
        assert.strictEqual(me.account_id, "acct_local_0001")
        assert.strictEqual(me.client_id, issuer.clientId)
      }).pipe(Effect.provide(Auth))

      const stored = JSON.parse(readFileSync(join(home, "auth.json"), "utf8")) as { tokens: { account_id: string } }
      assert.strictEqual(stored.tokens.account_id, "acct_local_0001")
    })
  )

  it.scopedLive("layerNode: an RFC 8628 login kept in memory calls the API with Node's platform built in", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "10 millis" })
      const home = yield* tempDir
      const Auth = DeviceCodeAuth.layerNode({
        codexHome: home,
        store: "ephemeral",
        dialect: "rfc8628",
        issuer: issuer.url,
        clientId: issuer.oidcClientId
      })

      yield* Effect.gen(function* () {
        const { result } = yield* loginRecording
        assert.strictEqual(result.location, "memory (ephemeral)")
        const account = yield* Effect.flatMap(AuthSession.AuthSession, (session) => session.account)
        assert.strictEqual(account.dialect, "rfc8628")
        assert.strictEqual(account.issuer, issuer.url)
        const me = yield* getMe(issuer)
        assert.strictEqual(me.client_id, issuer.oidcClientId)
      }).pipe(Effect.provide(Auth))

      assert.deepStrictEqual(readdirSync(home), [], "an ephemeral store writes nothing")
    })
  )

  it.scopedLive("layerStore: reads codex's auth.json, and config.toml picks the store", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      writeFileSync(join(home, "auth.json"), fixture)
      writeFileSync(join(home, "config.toml"), 'forced_chatgpt_workspace_id = "acct_local_0001"\n')
      const fileStore = DeviceCodeAuth.layerStore({ codexHome: home }).pipe(Layer.provide(NodeContext.layer))

      yield* Effect.gen(function* () {
        const setup = yield* DeviceCodeAuth.Setup
        assert.strictEqual(setup.store, "file")
        assert.deepStrictEqual(setup.config.forcedWorkspaceIds, ["acct_local_0001"])
        const store = yield* CredentialStore.CredentialStore
        assert.strictEqual(store.location, `file ${join(realpathSync(home), "auth.json")}`)
        assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
      }).pipe(Effect.provide(fileStore))

      writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "ephemeral"\n')
      const memoryStore = DeviceCodeAuth.layerStore({ codexHome: home }).pipe(Layer.provide(NodeContext.layer))
      yield* Effect.gen(function* () {
        assert.strictEqual((yield* DeviceCodeAuth.Setup).store, "ephemeral")
        const store = yield* CredentialStore.CredentialStore
        assert.strictEqual(store.location, "memory (ephemeral)")
        assert.isTrue(Option.isNone(yield* store.load))
      }).pipe(Effect.provide(memoryStore))
    })
  )

  it.scopedLive("layer({ codexHome: '/nonexistent' }) fails with ConfigError reason Options", () =>
    Effect.gen(function* () {
      const error = yield* Layer.build(DeviceCodeAuth.layer({ codexHome: "/nonexistent" })).pipe(
        Effect.provide(Platform),
        Effect.flip
      )
      assert.instanceOf(error, Errors.ConfigError)
      assert.strictEqual(error.reason, "Options")
      assert.strictEqual(error.path, "/nonexistent")
      assert.include(error.message, "does not exist")

      const home = yield* tempDir
      const noIssuer = yield* Layer.build(DeviceCodeAuth.layerNode({ codexHome: home, dialect: "rfc8628" })).pipe(
        Effect.flip
      )
      assert.strictEqual(noIssuer.reason, "Options")
      assert.include(noIssuer.message, "the rfc8628 dialect needs the issuer option")
    })
  )
})

describe("issuer layers from dist", () => {
  it.scopedLive("CodexIssuer.layer: start, approve, poll, and complete the code into tokens the issuer signed", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const pkce = yield* TestPkce.make
      yield* Effect.gen(function* () {
        const flow = yield* LoginFlow.LoginFlow
        assert.strictEqual(flow.authMode, "chatgpt")
        assert.deepStrictEqual(
          Option.map(flow.origin, (origin) => origin.dialect),
          Option.some("codex")
        )
        const code = yield* flow.start
        assert.strictEqual((yield* flow.poll(code))._tag, "Pending")
        assert.isTrue(yield* issuer.approve(code.userCode))
        const answer = yield* flow.poll(code)
        if (answer._tag !== "Approved" || answer.grant._tag !== "AuthorizationCode") {
          return assert.fail(`expected an authorization code, got ${answer._tag}`)
        }
        const { claims, tokens } = yield* flow.complete(answer.grant)
        assert.strictEqual(yield* pkce.checked, 1, "the issuer's PKCE pair is checked before the exchange")
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(Redacted.value(tokens.accessToken))))
        assert.deepStrictEqual(claims.accountId, Option.some("acct_local_0001"))
      }).pipe(
        Effect.provide(CodexIssuer.layer({ issuer: issuer.url, clientId: issuer.clientId })),
        Effect.provide(Layer.merge(pkce.layer, NodeHttpClient.layer))
      )
    })
  )

  it.scopedLive("OidcIssuer.layer: discovery, start, approve, and a poll that yields the tokens", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* Effect.gen(function* () {
        const flow = yield* LoginFlow.LoginFlow
        assert.strictEqual(flow.authMode, "oidc")
        assert.deepStrictEqual(
          Option.map(flow.origin, (origin) => origin.dialect),
          Option.some("rfc8628")
        )
        const code = yield* flow.start
        assert.isTrue(code.verificationUri.startsWith(issuer.url))
        assert.isTrue(yield* issuer.approve(code.userCode))
        const answer = yield* flow.poll(code)
        if (answer._tag !== "Approved" || answer.grant._tag !== "Tokens") {
          return assert.fail(`expected tokens, got ${answer._tag}`)
        }
        const { claims } = yield* flow.complete(answer.grant)
        assert.deepStrictEqual(claims.email, Option.some("dev@example.com"))
        assert.strictEqual((yield* issuer.stats).discovery, 1)
      }).pipe(
        Effect.provide(OidcIssuer.layer({ issuer: issuer.url, clientId: issuer.oidcClientId })),
        Effect.provide(Layer.merge(Pkce.layer, NodeHttpClient.layer))
      )
    })
  )

  it.scopedLive("IssuerResolver.layer: one issuer client per origin, of the origin's dialect", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const origin = Option.some(
        new StoredAuth.SignInOrigin({
          dialect: "rfc8628",
          issuer: issuer.url,
          clientId: issuer.oidcClientId,
          scope: Option.none()
        })
      )
      yield* Effect.gen(function* () {
        const resolver = yield* IssuerResolver.IssuerResolver
        const codex = yield* resolver.forSignIn(Option.none())
        assert.strictEqual(codex.issuer, "https://auth.openai.com")
        // the codex dialect names the workspace on each request; RFC 8628 adds nothing
        assert.deepStrictEqual(codex.requestHeaders(Option.some("acct-1")), { "ChatGPT-Account-Id": "acct-1" })
        const oidc = yield* resolver.forSignIn(origin)
        assert.strictEqual(oidc.issuer, issuer.url)
        assert.deepStrictEqual(oidc.requestHeaders(Option.some("acct-1")), {})
        assert.strictEqual(yield* resolver.forSignIn(origin), oidc, "kept per origin")
        yield* oidc.revoke(Redacted.make("rt-unknown"))
        const stats = yield* issuer.stats
        assert.strictEqual(stats.discovery, 1)
        assert.strictEqual(stats.revoke, 1)
      }).pipe(Effect.provide(IssuerResolver.layer), Effect.provide(NodeHttpClient.layer))
    })
  )

  it.scopedLive("IssuerResolver.fixed: the IssuerClient in context, whatever the origin", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const origin = Option.some(
        new StoredAuth.SignInOrigin({
          dialect: "rfc8628",
          issuer: "https://elsewhere.test",
          clientId: "x",
          scope: Option.none()
        })
      )
      yield* Effect.gen(function* () {
        const client = yield* IssuerClient.IssuerClient
        const resolved = yield* Effect.flatMap(IssuerResolver.IssuerResolver, (resolver) => resolver.forSignIn(origin))
        assert.strictEqual(resolved, client)
        assert.strictEqual(resolved.issuer, issuer.url)
        yield* resolved.revoke(Redacted.make("rt-unknown"))
        assert.strictEqual((yield* issuer.stats).revoke, 1)
      }).pipe(
        Effect.provide(
          IssuerResolver.fixed.pipe(
            Layer.provideMerge(CodexIssuer.layerClient({ issuer: issuer.url, clientId: issuer.clientId })),
            Layer.provide(NodeHttpClient.layer)
          )
        )
      )
    })
  )
})

describe("store layers from dist", () => {
  it.scopedLive("FileStore.layer: save writes codex's auth.json (0600), load reads it back, remove deletes it", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = FileStore.authJsonPath(home)
      yield* Effect.gen(function* () {
        const store = yield* CredentialStore.CredentialStore
        assert.isTrue(Option.isNone(yield* store.load))
        yield* store.save(record)
        assert.strictEqual(statSync(authPath).mode & 0o777, 0o600)
        const loaded = yield* store.load
        assert.strictEqual(StoredAuth.encodeStoredAuth(Option.getOrThrow(loaded)), StoredAuth.encodeStoredAuth(record))
        assert.isTrue(yield* store.remove)
        assert.isFalse(existsSync(authPath))
      }).pipe(Effect.provide(FileStore.layer(authPath)), Effect.provide(NodeContext.layer))
    })
  )

  it.scopedLive("KeyringStore.layer: the record goes to codex's keyring entry, as compact JSON", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const keyring = memoryKeyring()
      const account = KeyringStore.keyringAccount(realpathSync(home))
      yield* Effect.gen(function* () {
        const store = yield* CredentialStore.CredentialStore
        assert.include(store.location, account)
        yield* store.save(record)
        const secret = keyring.entries.get(`${KeyringStore.KEYRING_SERVICE}/${account}`)
        assert.isDefined(secret)
        assert.notInclude(secret!, "\n")
        assert.strictEqual(accountIdOf(Either.getRight(StoredAuth.parseStoredAuth(secret!))), "acct_local_0001")
        assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
        assert.isTrue(yield* store.remove)
        assert.strictEqual(keyring.entries.size, 0)
      }).pipe(
        Effect.provide(KeyringStore.layer({ codexHome: home })),
        Effect.provide(Layer.merge(keyring.layer, NodeContext.layer))
      )
    })
  )

  it.scopedLive("AutoStore.layer: a failing keyring falls back to the file, and says so once", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const authPath = FileStore.authJsonPath(home)
      const fallbacks: Array<string> = []
      const options = yield* Effect.gen(function* () {
        return {
          keyring: yield* KeyringStore.make({ codexHome: home }),
          file: yield* FileStore.make(authPath),
          onFallback: (error: InstanceType<typeof Errors.StoreError>) =>
            Effect.sync(() => void fallbacks.push(error.reason))
        }
      }).pipe(Effect.provide(Layer.merge(brokenKeyring, NodeContext.layer)))

      yield* Effect.gen(function* () {
        const store = yield* CredentialStore.CredentialStore
        yield* store.save(record)
        assert.strictEqual(store.location, `file ${authPath}`)
        assert.isTrue(existsSync(authPath))
        assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
        assert.deepStrictEqual(fallbacks, ["Keyring"])
      }).pipe(Effect.provide(AutoStore.layer(options)))
    })
  )

  it.effect("MemoryStore.layer (also in the kit): starts with the given record; save and remove round-trip", () =>
    Effect.gen(function* () {
      const store = yield* CredentialStore.CredentialStore
      assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
      assert.isTrue(yield* store.remove)
      assert.isTrue(Option.isNone(yield* store.load))
      yield* store.save(record)
      assert.strictEqual(
        StoredAuth.encodeStoredAuth(Option.getOrThrow(yield* store.load)),
        StoredAuth.encodeStoredAuth(record)
      )
    }).pipe(Effect.provide(Kit.MemoryStore.layer(Option.some(record))))
  )

  it.scoped("Keyring.layer builds without touching the OS keyring", () =>
    Effect.gen(function* () {
      const context = yield* Layer.build(Keyring.layer)
      const keyring = Context.get(context, Keyring.Keyring)
      assert.isFunction(keyring.get)
      assert.isFunction(keyring.set)
      assert.isFunction(keyring.remove)
    })
  )
})

describe("session and policy layers from dist", () => {
  it.effect("Pkce.layer: S256 pairs, checked before an exchange", () =>
    Effect.gen(function* () {
      const pkce = yield* Pkce.Pkce
      const verifier = Redacted.make("dist-verifier")
      const checked = yield* pkce.fromIssuer(verifier, s256Challenge("dist-verifier"))
      assert.strictEqual(checked.challenge, s256Challenge("dist-verifier"))
      const mismatch = yield* Effect.flip(pkce.fromIssuer(verifier, s256Challenge("another verifier")))
      assert.strictEqual(mismatch._tag, "PkceMismatch")
    }).pipe(Effect.provide(Pkce.layer))
  )

  it.effect("WorkspacePolicy.layer and layerFromConfig: the forced workspace, or any", () =>
    Effect.gen(function* () {
      const inWorkspace = new IdTokenClaims.IdTokenClaims({
        ...IdTokenClaims.emptyClaims,
        accountId: Option.some("acct-1")
      })
      const elsewhere = new IdTokenClaims.IdTokenClaims({
        ...IdTokenClaims.emptyClaims,
        accountId: Option.some("acct-2")
      })
      yield* Effect.gen(function* () {
        const policy = yield* WorkspacePolicy.WorkspacePolicy
        assert.deepStrictEqual(policy.forcedWorkspaceIds, ["acct-1"])
        yield* policy.check(inWorkspace)
        const refused = yield* Effect.flip(policy.check(elsewhere))
        assert.strictEqual(refused.reason, "Mismatch")
      }).pipe(Effect.provide(WorkspacePolicy.layer(Option.some(" acct-1 "))))
      yield* Effect.flatMap(WorkspacePolicy.WorkspacePolicy, (policy) => policy.check(elsewhere)).pipe(
        Effect.provide(WorkspacePolicy.layerFromConfig(CodexConfig.defaultCodexConfig))
      )
    })
  )

  it.scopedLive("AuthSession.layer: refreshes a born-expired token once, then serves it from memory", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "10 millis", accessTokenTtl: 0 })
      const codex = { issuer: issuer.url, clientId: issuer.clientId }
      const Session = AuthSession.layer().pipe(
        Layer.provideMerge(IssuerResolver.fixed),
        Layer.provideMerge(
          Layer.mergeAll(
            CodexIssuer.layer(codex).pipe(Layer.provide(Pkce.layer)),
            CodexIssuer.layerClient(codex),
            WorkspacePolicy.layer(Option.none())
          )
        ),
        Layer.provideMerge(MemoryStore.layer()),
        Layer.provide(NodeHttpClient.layer)
      )
      yield* Effect.gen(function* () {
        const { result } = yield* loginRecording
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
        const session = yield* AuthSession.AuthSession
        const token = yield* session.accessToken
        assert.notStrictEqual(
          Redacted.value(token),
          Redacted.value(Option.getOrThrow(result.record.tokens).accessToken)
        )
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(Redacted.value(token))))
        assert.strictEqual(Redacted.value(yield* session.accessToken), Redacted.value(token))
        const served = yield* session.token
        assert.strictEqual(Redacted.value(served.accessToken), Redacted.value(token))
        assert.isTrue(Option.isSome(served.expiresAt), "the refreshed token's expiry comes with it")
        assert.strictEqual((yield* issuer.stats).refresh, 1)
        assert.deepStrictEqual((yield* session.account).accountId, Option.some("acct_local_0001"))
      }).pipe(Effect.provide(Session))
    })
  )

  it.effect("AuthenticatedHttpClient.layer: bearer and account headers; a 401 refreshes once and retries", () =>
    Effect.gen(function* () {
      let current = "old-token"
      // the session hands out each token with the headers its issuer wants (codex: the workspace's account id)
      const tokenOf = (accessToken: string): SessionToken => ({
        accessToken: Redacted.make(accessToken),
        expiresAt: Option.none(),
        headers: { "ChatGPT-Account-Id": "acct-1" }
      })
      const Session = Layer.succeed(
        AuthSession.AuthSession,
        AuthSession.AuthSession.of({
          token: Effect.sync(() => tokenOf(current)),
          accessToken: Effect.sync(() => Redacted.make(current)),
          refreshAfterRejection: () => Effect.sync(() => tokenOf((current = "new-token"))),
          claims: Effect.succeed(IdTokenClaims.emptyClaims),
          account: Effect.succeed({
            method: "chatgpt" as const,
            email: Option.none(),
            plan: Option.none(),
            accountId: Option.some("acct-1"),
            issuer: "https://issuer.test",
            dialect: "codex" as const
          })
        })
      )
      const api = fakeClient((request) =>
        request.headers.authorization === "Bearer new-token" ? json(200, { ok: true }) : json(401, {})
      )
      const response = yield* Effect.flatMap(AuthenticatedHttpClient.AuthenticatedHttpClient, (client) =>
        client.get("https://api.test/v1/me")
      ).pipe(
        Effect.provide(AuthenticatedHttpClient.layer),
        Effect.provide(Layer.merge(Session, Layer.succeed(HttpClient.HttpClient, api.client)))
      )
      assert.strictEqual(response.status, 200)
      assert.deepStrictEqual(
        api.requests.map((request) => [request.headers.authorization, request.headers["chatgpt-account-id"]]),
        [
          ["Bearer old-token", "acct-1"],
          ["Bearer new-token", "acct-1"]
        ]
      )
    })
  )
})
