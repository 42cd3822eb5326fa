import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import { CODEX_CLIENT_ID } from "../domain/CodexWire.js"
import { makeAuthorization } from "./localIssuer/authorize.js"
import { makeDeviceCodes } from "./localIssuer/codes.js"
import { makeCodex } from "./localIssuer/codex.js"
import type { IssuerContext } from "./localIssuer/context.js"
import { makeJwtSigner } from "./localIssuer/jwt.js"
import { oauthRoutes } from "./localIssuer/oauth.js"
import { makeRequestHandler } from "./localIssuer/pipeline.js"
import { makeAccessTokenVerifier, resourceRoute } from "./localIssuer/resource.js"
import { makeRfc8628 } from "./localIssuer/rfc8628.js"
import { routesByPath } from "./localIssuer/route.js"
import { listenOnLoopback, type RequestHandler } from "./localIssuer/server.js"
import { makeIssuerState } from "./localIssuer/state.js"
import { makeTokens, type RefreshTokenState } from "./localIssuer/tokens.js"
import type {
  LocalIssuerCodeStatus,
  LocalIssuerKnobs,
  LocalIssuerRequest,
  LocalIssuerStats
} from "./localIssuer/types.js"

export type {
  Fault,
  LocalIssuerApiKeyExchange,
  LocalIssuerAuthorizeError,
  LocalIssuerAuthorizeIss,
  LocalIssuerCodeStatus,
  LocalIssuerDiscovery,
  LocalIssuerIdTokenNonce,
  LocalIssuerKnobs,
  LocalIssuerRequest,
  LocalIssuerStats
} from "./localIssuer/types.js"
export type { RefreshTokenState } from "./localIssuer/tokens.js"
export { WRONG_ISSUER } from "./localIssuer/rfc8628.js"

/** How a LocalIssuer behaves; every field has a default. */
export interface LocalIssuerOptions {
  /** 0 or absent: a random free port. */
  readonly port?: number
  /** The Codex dialect's only client id; default the Codex CLI's. */
  readonly clientId?: string
  /** The RFC 8628 dialect's only client id (a public client); default `"devicecode-local"`. */
  readonly oidcClientId?: string
  /**
   * The poll interval the issuer asks for; default 5 seconds. A DurationInput like every duration here (`"1 second"`,
   * `Duration.seconds(5)`; a bare number is milliseconds). It goes on the wire in whole seconds, rounded up so that
   * no client is told to poll faster than asked (`"1500 millis"` is sent as 2, `"0 millis"` as 0): Codex's usercode
   * response as a string (`"5"`, as the live server), the RFC 8628 device authorization response as a number. null
   * omits it from both.
   */
  readonly interval?: Duration.DurationInput | null
  /** How long a device code stays valid; default 15 minutes. */
  readonly codeTtl?: Duration.DurationInput
  /** Approves each code this long (real time) after it is issued. */
  readonly autoApproveAfter?: Duration.DurationInput
  readonly email?: string
  /** The `name` claim of RFC 8628 id_tokens; default `"Local Developer"`. */
  readonly name?: string
  readonly plan?: string
  /** The `chatgpt_account_id` claim; null omits it. */
  readonly accountId?: string | null
  /** The lifetime of the access tokens it mints (`0`: born expired); default 1 hour. */
  readonly accessTokenTtl?: Duration.DurationInput
  /** Called with each request once it is answered (or dropped by a fault). */
  readonly onRequest?: (request: LocalIssuerRequest) => Effect.Effect<void>
}

/** A running LocalIssuer: its URL and the controls a test or demo drives it with. */
export interface LocalIssuer {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string
  /** The Codex dialect's client id. */
  readonly clientId: string
  /** The RFC 8628 dialect's client id. */
  readonly oidcClientId: string
  /** Approves a pending code of either dialect; false if unknown, expired or already decided. */
  readonly approve: (userCode: string) => Effect.Effect<boolean>
  /** Denies a pending code of either dialect; false if unknown, expired or already decided. */
  readonly deny: (userCode: string) => Effect.Effect<boolean>
  /** Expires a pending code of either dialect now; false if unknown, expired or already decided. */
  readonly expire: (userCode: string) => Effect.Effect<boolean>
  /** Every code issued, in both dialects, oldest first. */
  readonly codes: Effect.Effect<ReadonlyArray<{ readonly userCode: string; readonly status: LocalIssuerCodeStatus }>>
  /** Waits for a code (of either dialect) not returned by nextCode before, and returns its user code. */
  readonly nextCode: Effect.Effect<string>
  readonly setKnobs: (knobs: Partial<LocalIssuerKnobs>) => Effect.Effect<void>
  readonly knobs: Effect.Effect<LocalIssuerKnobs>
  readonly stats: Effect.Effect<LocalIssuerStats>
  readonly requests: Effect.Effect<ReadonlyArray<LocalIssuerRequest>>
  /** Where a refresh token this issuer minted stands (active, used, revoked); none for one it never minted. */
  readonly refreshTokenState: (token: string) => Effect.Effect<Option.Option<RefreshTokenState>>
  /** The claims of an unexpired access token this issuer signed. */
  readonly verifyAccessToken: (token: string) => Effect.Effect<Option.Option<Record<string, unknown>>>
}

/** The interval the live Codex server asks for. */
const defaultInterval = Duration.seconds(5)

/** How long a device code of the live Codex server stays valid. */
const defaultCodeTtl = Duration.minutes(15)

/** How long an access token lives by default. */
const defaultAccessTokenTtl = Duration.hours(1)

/** The LocalIssuer service, for tests that prefer a Layer. */
export const LocalIssuer = Context.GenericTag<LocalIssuer>("devicecode/testing/LocalIssuer")

/** Starts a LocalIssuer on 127.0.0.1; it stops, promptly, when the scope closes. */
export const make = (options: LocalIssuerOptions = {}): Effect.Effect<LocalIssuer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clientId = options.clientId ?? CODEX_CLIENT_ID
    const oidcClientId = options.oidcClientId ?? "devicecode-local"
    const intervalSeconds =
      options.interval === null
        ? Option.none()
        : Option.some(Math.ceil(Duration.toSeconds(options.interval ?? defaultInterval)))
    const codeTtl = Duration.decode(options.codeTtl ?? defaultCodeTtl)
    const signer = makeJwtSigner()
    const state = makeIssuerState({
      accessTokenTtlSeconds: Math.floor(
        Duration.toSeconds(Duration.decode(options.accessTokenTtl ?? defaultAccessTokenTtl))
      )
    })
    const codes = yield* makeDeviceCodes({
      codeTtlMillis: Duration.toMillis(codeTtl),
      autoApproveAfter: Option.map(Option.fromNullable(options.autoApproveAfter), Duration.decode)
    })

    // The URL is known only once the server listens; a request that comes sooner waits for the handler.
    const ready = yield* Deferred.make<RequestHandler>()
    const port = yield* listenOnLoopback(options.port ?? 0, (req, res) =>
      Effect.flatMap(Deferred.await(ready), (handle) => handle(req, res))
    )
    const url = `http://127.0.0.1:${port}`

    const tokens = makeTokens({
      url,
      signer,
      accessTokenTtlSeconds: () => state.knobs().accessTokenTtlSeconds,
      refreshDelayMillis: () => state.knobs().refreshDelayMillis,
      codexClientId: clientId,
      oidcClientId,
      email: options.email ?? "dev@example.com",
      name: options.name ?? "Local Developer",
      plan: options.plan ?? "plus",
      accountId: options.accountId === undefined ? "acct_local_0001" : options.accountId,
      count: state.count
    })
    const context: IssuerContext = {
      url,
      codes,
      tokens,
      count: state.count,
      knobs: state.knobs,
      takeSlowDown: state.takeSlowDown
    }
    const authorization = makeAuthorization(context)
    const codex = makeCodex(context, { clientId, intervalSeconds, signer, authorization })
    const rfc8628 = makeRfc8628(context, {
      clientId: oidcClientId,
      intervalSeconds,
      expiresIn: Math.floor(Duration.toSeconds(codeTtl))
    })
    const verifyAccessToken = makeAccessTokenVerifier(signer)
    const routes = routesByPath([
      ...codex.routes,
      ...rfc8628.routes,
      authorization.route([codex.browser, rfc8628.browser]),
      ...oauthRoutes({
        grants: new Map([
          ...codex.grants,
          ...rfc8628.grants,
          ["authorization_code", authorization.exchange],
          ["refresh_token", tokens.refresh]
        ]),
        revoke: tokens.revoke
      }),
      resourceRoute({ verify: verifyAccessToken, count: state.count })
    ])
    yield* Deferred.succeed(ready, makeRequestHandler({ url, routes, state, onRequest: options.onRequest }))

    return LocalIssuer.of({
      url,
      clientId,
      oidcClientId,
      approve: codes.approve,
      deny: codes.deny,
      expire: codes.expire,
      codes: codes.codes,
      nextCode: codes.nextCode,
      setKnobs: (patch) => Effect.sync(() => state.setKnobs(patch)),
      knobs: Effect.sync(state.knobs),
      stats: Effect.sync(state.stats),
      requests: Effect.sync(state.requests),
      refreshTokenState: (token) => Effect.sync(() => tokens.refreshTokenState(token)),
      verifyAccessToken
    })
  })

/** A Layer that runs a LocalIssuer for as long as the layer is in use. */
export const layer = (options?: LocalIssuerOptions): Layer.Layer<LocalIssuer> =>
  Layer.scoped(LocalIssuer, make(options))
