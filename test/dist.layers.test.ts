// Every exported layer, composed from the built package as a consumer imports it: "devicecode" and
// "devicecode/testing" resolve through package.json `exports` to dist/, never to src/.
import { HttpClient, HttpClientResponse } from "@effect/platform"
import { NodeContext, NodeHttpClient } from "@effect/platform-node"
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Either, Layer, Option, Redacted, Schema } from "effect"
import { existsSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import type { LoginEvent, StoredAuth } from "devicecode"
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
  AuthSessionLive,
  AutoStore,
  CodexConfig,
  CodexIssuer,
  ConfigError,
  CredentialStore,
  DeviceAuthorization,
  DeviceCodeAuth,
  emptyClaims,
  encodeStoredAuth,
  FileStore,
  IdTokenClaims,
  IssuerResolver,
  IssuerResolverLive,
  Keyring,
  KeyringStore,
  login,
  MemoryStore,
  OidcIssuer,
  parseStoredAuth,
  Pkce,
  s256Challenge,
  SignInOrigin,
  StoreError,
  WorkspacePolicy
} = await importBuilt<Main>("devicecode")
const Kit = await importBuilt<Testing>("devicecode/testing")
const { LocalIssuer } = Kit

/** Node's HttpClient, FileSystem and Path: what `DeviceCodeAuth.layer` needs from the platform. */
const Platform = Layer.mergeAll(NodeHttpClient.layer, NodeContext.layer)

/** The sign-in codex 0.169 wrote after a device login against a LocalIssuer. */
const fixture = readFileSync(new URL("test/fixtures/codex-0.169-device-login.auth.json", root), "utf8")
const record: StoredAuth = Either.getOrThrow(parseStoredAuth(fixture))

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
  const result = yield* login({ onEvent: (event) => Effect.sync(() => void events.push(event._tag)) })
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
    get: () => Effect.fail(new StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" })),
    set: () => Effect.fail(new StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" })),
    remove: () => Effect.fail(new StoreError({ reason: "Keyring", path: "fake", detail: "no Secret Service" }))
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

        const token = yield* Effect.flatMap(AuthSession, (session) => session.accessToken)
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
        const account = yield* Effect.flatMap(AuthSession, (session) => session.account)
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
        const store = yield* CredentialStore
        assert.strictEqual(store.location, `file ${join(realpathSync(home), "auth.json")}`)
        assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
      }).pipe(Effect.provide(fileStore))

      writeFileSync(join(home, "config.toml"), 'cli_auth_credentials_store = "ephemeral"\n')
      const memoryStore = DeviceCodeAuth.layerStore({ codexHome: home }).pipe(Layer.provide(NodeContext.layer))
      yield* Effect.gen(function* () {
        assert.strictEqual((yield* DeviceCodeAuth.Setup).store, "ephemeral")
        const store = yield* CredentialStore
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
      assert.instanceOf(error, ConfigError)
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
  it.scopedLive("CodexIssuer.layer: start, approve, poll, and exchange the code for tokens the issuer signed", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* Effect.gen(function* () {
        const auth = yield* DeviceAuthorization
        assert.strictEqual(auth.dialect, "codex")
        const code = yield* auth.start
        assert.strictEqual((yield* auth.poll(code))._tag, "Pending")
        assert.isTrue(yield* issuer.approve(code.userCode))
        const answer = yield* auth.poll(code)
        if (answer._tag !== "Approved" || answer.grant._tag !== "AuthorizationCode") {
          return assert.fail(`expected an authorization code, got ${answer._tag}`)
        }
        const pkce = yield* Pkce.make.fromIssuer(answer.grant.codeVerifier, answer.grant.codeChallenge)
        const tokens = yield* auth.exchange(answer.grant.code, pkce)
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(Redacted.value(tokens.accessToken))))
        const claims = yield* auth.claimsOf(tokens)
        assert.deepStrictEqual(claims.accountId, Option.some("acct_local_0001"))
      }).pipe(
        Effect.provide(CodexIssuer.layer({ issuer: issuer.url, clientId: issuer.clientId })),
        Effect.provide(NodeHttpClient.layer)
      )
    })
  )

  it.scopedLive("OidcIssuer.layer: discovery, start, approve, and a poll that yields the tokens", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* Effect.gen(function* () {
        const auth = yield* DeviceAuthorization
        assert.strictEqual(auth.dialect, "rfc8628")
        const code = yield* auth.start
        assert.isTrue(code.verificationUri.startsWith(issuer.url))
        assert.isTrue(yield* issuer.approve(code.userCode))
        const answer = yield* auth.poll(code)
        if (answer._tag !== "Approved" || answer.grant._tag !== "Tokens") {
          return assert.fail(`expected tokens, got ${answer._tag}`)
        }
        const claims = yield* auth.claimsOf(answer.grant.tokens)
        assert.deepStrictEqual(claims.email, Option.some("dev@example.com"))
        assert.strictEqual((yield* issuer.stats).discovery, 1)
      }).pipe(
        Effect.provide(OidcIssuer.layer({ issuer: issuer.url, clientId: issuer.oidcClientId })),
        Effect.provide(NodeHttpClient.layer)
      )
    })
  )

  it.scopedLive("IssuerResolverLive.layer: one issuer per origin, of the origin's dialect", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const origin = Option.some(
        new SignInOrigin({
          dialect: "rfc8628",
          issuer: issuer.url,
          clientId: issuer.oidcClientId,
          scope: Option.none()
        })
      )
      yield* Effect.gen(function* () {
        const resolver = yield* IssuerResolver
        const codex = yield* resolver.forSignIn(Option.none())
        assert.strictEqual(codex.dialect, "codex")
        assert.strictEqual(codex.issuer, "https://auth.openai.com")
        const oidc = yield* resolver.forSignIn(origin)
        assert.strictEqual(oidc.dialect, "rfc8628")
        assert.strictEqual(yield* resolver.forSignIn(origin), oidc, "kept per origin")
        const code = yield* oidc.start
        const codes = yield* issuer.codes
        assert.isTrue(codes.some((known) => known.userCode === code.userCode))
      }).pipe(Effect.provide(IssuerResolverLive.layer), Effect.provide(NodeHttpClient.layer))
    })
  )

  it.scopedLive("IssuerResolverLive.fixed: the DeviceAuthorization in context, whatever the origin", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const origin = Option.some(
        new SignInOrigin({ dialect: "rfc8628", issuer: "https://elsewhere.test", clientId: "x", scope: Option.none() })
      )
      yield* Effect.gen(function* () {
        const auth = yield* DeviceAuthorization
        const resolved = yield* Effect.flatMap(IssuerResolver, (resolver) => resolver.forSignIn(origin))
        assert.strictEqual(resolved, auth)
        const code = yield* resolved.start
        assert.isTrue(code.verificationUri.startsWith(issuer.url))
      }).pipe(
        Effect.provide(
          IssuerResolverLive.fixed.pipe(
            Layer.provideMerge(CodexIssuer.layer({ issuer: issuer.url, clientId: issuer.clientId })),
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
        const store = yield* CredentialStore
        assert.isTrue(Option.isNone(yield* store.load))
        yield* store.save(record)
        assert.strictEqual(statSync(authPath).mode & 0o777, 0o600)
        const loaded = yield* store.load
        assert.strictEqual(encodeStoredAuth(Option.getOrThrow(loaded)), encodeStoredAuth(record))
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
        const store = yield* CredentialStore
        assert.include(store.location, account)
        yield* store.save(record)
        const secret = keyring.entries.get(`${KeyringStore.KEYRING_SERVICE}/${account}`)
        assert.isDefined(secret)
        assert.notInclude(secret!, "\n")
        assert.strictEqual(accountIdOf(Either.getRight(parseStoredAuth(secret!))), "acct_local_0001")
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
          onFallback: (error: InstanceType<typeof StoreError>) => Effect.sync(() => void fallbacks.push(error.reason))
        }
      }).pipe(Effect.provide(Layer.merge(brokenKeyring, NodeContext.layer)))

      yield* Effect.gen(function* () {
        const store = yield* CredentialStore
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
      const store = yield* CredentialStore
      assert.strictEqual(accountIdOf(yield* store.load), "acct_local_0001")
      assert.isTrue(yield* store.remove)
      assert.isTrue(Option.isNone(yield* store.load))
      yield* store.save(record)
      assert.strictEqual(encodeStoredAuth(Option.getOrThrow(yield* store.load)), encodeStoredAuth(record))
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
      const inWorkspace = new IdTokenClaims({ ...emptyClaims, accountId: Option.some("acct-1") })
      const elsewhere = new IdTokenClaims({ ...emptyClaims, accountId: Option.some("acct-2") })
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

  it.scopedLive("AuthSessionLive.layer: refreshes a born-expired token once, then serves it from memory", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "10 millis", accessTokenTtl: 0 })
      const Session = AuthSessionLive.layer().pipe(
        Layer.provideMerge(IssuerResolverLive.fixed),
        Layer.provideMerge(
          Layer.mergeAll(
            CodexIssuer.layer({ issuer: issuer.url, clientId: issuer.clientId }),
            Pkce.layer,
            WorkspacePolicy.layer(Option.none())
          )
        ),
        Layer.provideMerge(MemoryStore.layer()),
        Layer.provide(NodeHttpClient.layer)
      )
      yield* Effect.gen(function* () {
        const { result } = yield* loginRecording
        yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
        const session = yield* AuthSession
        const token = yield* session.accessToken
        assert.notStrictEqual(
          Redacted.value(token),
          Redacted.value(Option.getOrThrow(result.record.tokens).accessToken)
        )
        assert.isTrue(Option.isSome(yield* issuer.verifyAccessToken(Redacted.value(token))))
        assert.strictEqual(Redacted.value(yield* session.accessToken), Redacted.value(token))
        assert.strictEqual((yield* issuer.stats).refresh, 1)
        assert.deepStrictEqual((yield* session.account).accountId, Option.some("acct_local_0001"))
      }).pipe(Effect.provide(Session))
    })
  )

  it.effect("AuthenticatedHttpClient.layer: bearer and account headers; a 401 refreshes once and retries", () =>
    Effect.gen(function* () {
      let current = "old-token"
      const Session = Layer.succeed(
        AuthSession,
        AuthSession.of({
          accessToken: Effect.sync(() => Redacted.make(current)),
          refreshAfterRejection: () => Effect.sync(() => Redacted.make((current = "new-token"))),
          claims: Effect.succeed(emptyClaims),
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
