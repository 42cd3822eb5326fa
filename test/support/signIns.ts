import { assert } from "@effect/vitest"
import { DateTime, Effect, Fiber, Layer, Option, Redacted, Ref } from "effect"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import type { DeviceAuthError } from "../../src/domain/Errors.js"
import { apiKeyAuth, SignInOrigin, StoredAuth, StoredTokens } from "../../src/domain/StoredAuth.js"
import type { TokenTypeHint } from "../../src/services/IssuerClient.js"
import * as CodexIssuer from "../../src/layers/CodexIssuer.js"
import * as FileStore from "../../src/layers/FileStore.js"
import { layer as issuerResolverLayer } from "../../src/layers/IssuerResolver.js"
import { IssuerResolver } from "../../src/services/IssuerResolver.js"
import { login } from "../../src/services/login.js"
import * as Pkce from "../../src/services/Pkce.js"
import * as WorkspacePolicy from "../../src/services/WorkspacePolicy.js"
import type * as LocalIssuer from "../../src/testing/LocalIssuer.js"
import * as ScriptedIssuer from "../../src/testing/ScriptedIssuer.js"
import { chatgptClaims, unsignedJwt } from "../../src/testing/ScriptedIssuer.js"

/** Node's FileSystem and Path, for a FileStore on a temporary directory. */
export const Platform = Layer.mergeAll(NodeFileSystem.layer, NodePath.layer)

/** 2100-01-01T00:00:00Z, the `exp` of the access tokens below. */
export const EXP_2100 = 4_102_444_800

const storedAccountId = (options: { readonly accountId?: string | null }) =>
  options.accountId === undefined ? "acct_test" : options.accountId

/**
 * A ChatGPT sign-in as codex stores it, of account `acct_test` unless `accountId` says otherwise (the id_token claims
 * the same one unless `claimedAccountId` does); `refreshToken: null` leaves only the access token.
 */
export const chatgptSignIn = (
  options: {
    readonly accountId?: string | null
    readonly claimedAccountId?: string | null
    readonly refreshToken?: string | null
    readonly accessToken?: string
    readonly origin?: SignInOrigin
  } = {}
): StoredAuth =>
  new StoredAuth({
    authMode: Option.some("chatgpt"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(
          Redacted.make(
            unsignedJwt(
              chatgptClaims({
                accountId: options.claimedAccountId === undefined ? storedAccountId(options) : options.claimedAccountId
              })
            )
          )
        ),
        accessToken: Redacted.make(options.accessToken ?? unsignedJwt({ sub: "user-test", exp: EXP_2100 })),
        refreshToken: Option.map(
          Option.fromNullable(options.refreshToken === undefined ? "rt_stored" : options.refreshToken),
          Redacted.make
        ),
        accountId: Option.fromNullable(storedAccountId(options)),
        loginOwnerId: Option.none(),
        expiresAt: Option.none(),
        extra: []
      })
    ),
    lastRefresh: Option.none(),
    origin: Option.fromNullable(options.origin),
    extra: []
  })

/** An RFC 8628 sign-in at `issuer`, with an opaque access token and a stored expiry. */
export const oidcSignIn = (issuer = "https://idp.test"): StoredAuth =>
  new StoredAuth({
    authMode: Option.some("oidc"),
    apiKey: Option.none(),
    tokens: Option.some(
      new StoredTokens({
        idToken: Option.some(
          Redacted.make(unsignedJwt({ sub: "subject-1", name: "Dee Veloper", email: "dee@idp.test" }))
        ),
        accessToken: Redacted.make("opaque-access"),
        refreshToken: Option.some(Redacted.make("rt_oidc")),
        accountId: Option.none(),
        loginOwnerId: Option.none(),
        expiresAt: Option.some(DateTime.unsafeMake("2030-01-02T03:04:05.000Z")),
        extra: []
      })
    ),
    lastRefresh: Option.none(),
    origin: Option.some(
      new SignInOrigin({ dialect: "rfc8628", issuer, clientId: "client-1", scope: Option.some("openid") })
    ),
    extra: []
  })

/** An API-key sign-in. */
export const apiKeySignIn = (key = "sk-proj-0123456789abcdef"): StoredAuth => apiKeyAuth(Redacted.make(key))

/** One revocation the fake issuer was asked for. */
export interface Revocation {
  readonly token: string
  readonly hint: TokenTypeHint | undefined
  readonly origin: Option.Option<SignInOrigin>
}

/**
 * An IssuerResolver whose issuers revoke by `answer` (succeed by default) and log each revocation, with the origin the
 * sign-in named; `resolved` counts how often an issuer was asked for.
 */
export const fakeIssuers = (answer: Effect.Effect<void, DeviceAuthError> = Effect.void) =>
  Effect.gen(function* () {
    const scripted = yield* ScriptedIssuer.make()
    const revocations = yield* Ref.make<ReadonlyArray<Revocation>>([])
    const resolved = yield* Ref.make(0)
    const layer = Layer.succeed(
      IssuerResolver,
      IssuerResolver.of({
        forSignIn: (origin) =>
          Effect.as(
            Ref.update(resolved, (n) => n + 1),
            {
              ...scripted.client,
              revoke: (token, hint) =>
                Effect.zipRight(
                  Ref.update(revocations, (all) => [...all, { token: Redacted.value(token), hint, origin }]),
                  answer
                )
            }
          )
      })
    )
    return { layer, revocations: Ref.get(revocations), resolved: Ref.get(resolved) }
  })

/**
 * A device login through the real Codex dialect against a LocalIssuer, into the file store at `authPath`, approved as
 * soon as its code is issued: the record it stored.
 */
export const loginAt = (issuer: LocalIssuer.LocalIssuer, authPath: string) =>
  Effect.gen(function* () {
    const loginLayer = Layer.mergeAll(
      CodexIssuer.layer({ issuer: issuer.url }).pipe(Layer.provide(Pkce.layer)),
      issuerResolverLayer,
      FileStore.layer(authPath),
      WorkspacePolicy.layer(Option.none())
    ).pipe(Layer.provide(Layer.mergeAll(NodeHttpClient.layer, Platform)))
    const signingIn = yield* Effect.fork(Effect.provide(login(), loginLayer))
    assert.isTrue(yield* issuer.approve(yield* issuer.nextCode))
    return (yield* Fiber.join(signingIn)).record
  })
