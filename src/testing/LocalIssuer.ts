import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { Clock, Context, Duration, Effect, FiberSet, Layer, Option, type Scope } from "effect"
import { CODEX_CLIENT_ID } from "../domain/CodexWire.js"
import { isRecord, parseJson } from "../domain/Json.js"
import { makeDeviceCodes } from "./localIssuer/codes.js"
import { CodexPaths, makeCodex, TOKEN_EXCHANGE_GRANT } from "./localIssuer/codex.js"
import type { IssuerContext } from "./localIssuer/context.js"
import {
  codexError,
  html,
  oauthError,
  parseParams,
  type Params,
  readBody,
  type Reply,
  write
} from "./localIssuer/http.js"
import { makeJwtSigner } from "./localIssuer/jwt.js"
import { approvalPage, resultPage } from "./localIssuer/page.js"
import { DEVICE_CODE_GRANT, makeRfc8628, Rfc8628Paths } from "./localIssuer/rfc8628.js"
import { makeTokens } from "./localIssuer/tokens.js"

/** How a LocalIssuer behaves; every field has a default. */
export interface LocalIssuerOptions {
  /** 0 or absent: a random free port. */
  readonly port?: number
  /** The Codex dialect's only client id; default the Codex CLI's. */
  readonly clientId?: string
  /** The RFC 8628 dialect's only client id (a public client); default `"devicecode-local"`. */
  readonly oidcClientId?: string
  /**
   * The poll interval. Codex's usercode response carries it as given (default `"5"`, a string, as the live server);
   * the RFC 8628 device authorization response as a number (default 5). null omits it from both.
   */
  readonly interval?: string | number | null
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
  readonly accessTokenTtl?: Duration.DurationInput
  /** Called with each request once it is answered (or dropped by a fault). */
  readonly onRequest?: (request: LocalIssuerRequest) => Effect.Effect<void>
}

/** A canned answer for the next request(s) to `path`, consumed before normal handling. */
export interface Fault {
  readonly path: string
  readonly status?: number
  readonly body?: string
  readonly headers?: Record<string, string>
  /** How many matching requests it answers; default 1. */
  readonly times?: number
  /** Never answer (the socket stays open until the issuer closes). */
  readonly hang?: boolean
  /** Destroy the socket without an answer. */
  readonly reset?: boolean
}

/**
 * What the discovery documents say: `normal`; `no-device-endpoint` (no `device_authorization_endpoint`, no device_code
 * grant type); `wrong-issuer` (an `issuer` other than the URL it was fetched from); `missing` (both paths answer 404).
 */
export type LocalIssuerDiscovery = "normal" | "no-device-endpoint" | "wrong-issuer" | "missing"

/** Misbehaviours a test can switch on while the issuer runs. */
export interface LocalIssuerKnobs {
  /** The next N polls of a pending code, in either dialect, answer `slow_down`. */
  readonly slowDownPolls: number
  /** Both device-code endpoints (codex usercode, RFC 8628 device authorization) answer 404. */
  readonly deviceCodeDisabled: boolean
  readonly discovery: LocalIssuerDiscovery
  readonly faults: ReadonlyArray<Fault>
  /** Lifetime of the access tokens minted from now on, in seconds (0: born expired). */
  readonly accessTokenTtlSeconds: number
  /** An approved Codex poll answers a `code_challenge` that is not S256 of the `code_verifier` it sends. */
  readonly mismatchedPkce: boolean
}

/** Where a device code stands. */
export type LocalIssuerCodeStatus = "pending" | "approved" | "denied" | "expired" | "redeemed"

/** Request counts, per endpoint and per notable answer. */
export interface LocalIssuerStats {
  /** Codex usercode requests. */
  readonly usercode: number
  /** Codex polls. */
  readonly poll: number
  /** RFC 8628 device authorization requests. */
  readonly deviceAuthorization: number
  /** RFC 8628 device_code grants at /oauth/token. */
  readonly devicePoll: number
  /** GETs of either discovery document. */
  readonly discovery: number
  /** authorization_code grants at /oauth/token. */
  readonly exchange: number
  /** refresh_token grants at /oauth/token. */
  readonly refresh: number
  /** token-exchange grants (API key) at /oauth/token. */
  readonly tokenExchange: number
  readonly revoke: number
  /** GET and POST of either approval page. */
  readonly devicePage: number
  readonly slowDown: number
  readonly refreshTokenReused: number
  /** Requests answered by a queued fault. */
  readonly faults: number
  readonly notFound: number
  /** Requests to the protected `GET /v1/me`. */
  readonly me: number
}

/** One request the issuer saw, for assertions and debugging. */
export interface LocalIssuerRequest {
  readonly method: string
  readonly path: string
  /** The status answered, or how a fault dropped it. */
  readonly status: number | "reset" | "hang"
  /** `grant_type` of a token request. */
  readonly grantType?: string
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
  /** The claims of an unexpired access token this issuer signed. */
  readonly verifyAccessToken: (token: string) => Effect.Effect<Option.Option<Record<string, unknown>>>
}

/** The LocalIssuer service, for tests that prefer a Layer. */
export const LocalIssuer = Context.GenericTag<LocalIssuer>("devicecode/testing/LocalIssuer")

const Paths = {
  token: "/oauth/token",
  revoke: "/oauth/revoke",
  me: "/v1/me"
} as const

const postOnly: ReadonlySet<string> = new Set([
  CodexPaths.userCode,
  CodexPaths.poll,
  Paths.token,
  Paths.revoke,
  Rfc8628Paths.deviceAuthorization
])
const approvalPaths: ReadonlySet<string> = new Set([CodexPaths.device, Rfc8628Paths.device])
const discoveryPaths: ReadonlySet<string> = new Set([
  Rfc8628Paths.openidConfiguration,
  Rfc8628Paths.authorizationServer
])
/** Paths whose errors take the RFC 6749 shape rather than Codex's. */
const oauthPaths: ReadonlySet<string> = new Set([Paths.token, Paths.revoke, Rfc8628Paths.deviceAuthorization])

const emptyStats: LocalIssuerStats = {
  usercode: 0,
  poll: 0,
  deviceAuthorization: 0,
  devicePoll: 0,
  discovery: 0,
  exchange: 0,
  refresh: 0,
  tokenExchange: 0,
  revoke: 0,
  devicePage: 0,
  slowDown: 0,
  refreshTokenReused: 0,
  faults: 0,
  notFound: 0,
  me: 0
}

/** RFC 8628 wants a number of seconds; codex's `interval` option may be a string. */
const numericInterval = (interval: string | number | null): number | undefined => {
  if (interval === null) return undefined
  const seconds = typeof interval === "number" ? interval : Number.parseInt(interval, 10)
  return Number.isFinite(seconds) ? seconds : 5
}

/** Starts a LocalIssuer on 127.0.0.1; it stops, promptly, when the scope closes. */
export const make = (options: LocalIssuerOptions = {}): Effect.Effect<LocalIssuer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clientId = options.clientId ?? CODEX_CLIENT_ID
    const oidcClientId = options.oidcClientId ?? "devicecode-local"
    const interval = options.interval === undefined ? "5" : options.interval
    const codeTtl = Duration.decode(options.codeTtl ?? Duration.minutes(15))
    const accessTokenTtlSeconds = Math.floor(Duration.toSeconds(Duration.decode(options.accessTokenTtl ?? "1 hour")))
    const signer = makeJwtSigner()

    const log: Array<LocalIssuerRequest> = []
    let knobs: LocalIssuerKnobs = {
      slowDownPolls: 0,
      deviceCodeDisabled: false,
      discovery: "normal",
      faults: [],
      accessTokenTtlSeconds,
      mismatchedPkce: false
    }
    let stats: LocalIssuerStats = emptyStats
    const count = (key: keyof LocalIssuerStats) => {
      stats = { ...stats, [key]: stats[key] + 1 }
    }

    const codes = yield* makeDeviceCodes({
      codeTtlMillis: Duration.toMillis(codeTtl),
      autoApproveAfter: Option.map(Option.fromNullable(options.autoApproveAfter), Duration.decode)
    })
    const run = yield* FiberSet.makeRuntime<never>()

    const sockets = new Set<Socket>()
    const server = createServer((req, res) => {
      run(handle(req, res))
    })
    server.on("connection", (socket) => {
      sockets.add(socket)
      socket.once("close", () => sockets.delete(socket))
    })
    const port = yield* Effect.acquireRelease(
      Effect.async<number>((resume) => {
        const onError = (error: Error) => resume(Effect.die(error))
        server.once("error", onError)
        server.listen(options.port ?? 0, "127.0.0.1", () => {
          server.off("error", onError)
          const address = server.address()
          resume(
            typeof address === "object" && address !== null
              ? Effect.succeed(address.port)
              : Effect.dieMessage("LocalIssuer: the server has no TCP address")
          )
        })
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
          for (const socket of sockets) socket.destroy()
        })
    )
    const url = `http://127.0.0.1:${port}`

    const tokens = makeTokens({
      url,
      signer,
      accessTokenTtlSeconds: () => knobs.accessTokenTtlSeconds,
      codexClientId: clientId,
      oidcClientId,
      email: options.email ?? "dev@example.com",
      name: options.name ?? "Local Developer",
      plan: options.plan ?? "plus",
      accountId: options.accountId === undefined ? "acct_local_0001" : options.accountId,
      count
    })
    const context: IssuerContext = {
      url,
      codes,
      tokens,
      count,
      knobs: () => knobs,
      takeSlowDown: () => {
        if (knobs.slowDownPolls <= 0) return false
        knobs = { ...knobs, slowDownPolls: knobs.slowDownPolls - 1 }
        count("slowDown")
        return true
      }
    }
    const codex = makeCodex(context, { clientId, interval, signer })
    const rfc8628 = makeRfc8628(context, {
      clientId: oidcClientId,
      interval: numericInterval(interval),
      expiresIn: Math.floor(Duration.toSeconds(codeTtl))
    })

    const takeFault = (path: string): Fault | undefined => {
      const index = knobs.faults.findIndex((fault) => fault.path === path)
      if (index < 0) return undefined
      const fault = knobs.faults[index]!
      const left = (fault.times ?? 1) - 1
      const faults = [...knobs.faults]
      if (left > 0) faults[index] = { ...fault, times: left }
      else faults.splice(index, 1)
      knobs = { ...knobs, faults }
      return fault
    }

    // One page for both dialects: a code is found by its user code whichever endpoint issued it.
    const devicePage = (path: string, method: string, query: URLSearchParams, params: Params) =>
      Effect.gen(function* () {
        count("devicePage")
        if (method === "GET") return html(200, approvalPage({ action: path, userCode: query.get("user_code") ?? "" }))
        const userCode = params.user_code ?? ""
        const unknown = () => html(400, resultPage("Unknown or expired code", "Unknown or expired code.", path))
        if (params.action === "approve") {
          return (yield* codes.approve(userCode))
            ? html(200, resultPage("Approved", "Approved. You can return to your terminal."))
            : unknown()
        }
        if (params.action === "deny") {
          return (yield* codes.deny(userCode)) ? html(200, resultPage("Denied", "Denied.")) : unknown()
        }
        return html(400, resultPage("Unknown action", "Choose Approve or Deny.", path))
      })

    const token = (params: Params): Effect.Effect<Reply> => {
      switch (params.grant_type) {
        case DEVICE_CODE_GRANT:
          return rfc8628.pollDeviceCode(params)
        case "authorization_code":
          return codex.exchangeCode(params)
        case "refresh_token":
          return tokens.refresh(params)
        case TOKEN_EXCHANGE_GRANT:
          return Effect.succeed(codex.tokenExchange(params))
        default:
          return Effect.succeed(
            oauthError(400, "unsupported_grant_type", `grant_type ${params.grant_type ?? "(none)"} is not supported.`)
          )
      }
    }

    const notAllowed = (path: string, method: string): Effect.Effect<Reply> => {
      const message = `${method} is not allowed.`
      return Effect.succeed(
        path === Rfc8628Paths.deviceAuthorization
          ? oauthError(405, "invalid_request", message)
          : codexError(405, "method_not_allowed", message)
      )
    }

    const verifyAccessToken = (token: string): Effect.Effect<Option.Option<Record<string, unknown>>> =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const claims = signer.verify(token)
        return claims !== undefined &&
          typeof claims.client_id === "string" &&
          typeof claims.exp === "number" &&
          claims.exp * 1000 > now
          ? Option.some(claims)
          : Option.none()
      })

    // A protected resource: the bearer token must be one this issuer signed and unexpired (RFC 6750 §3).
    const me = (req: IncomingMessage): Effect.Effect<Reply> =>
      Effect.gen(function* () {
        count("me")
        const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1]
        const claims = bearer === undefined ? Option.none() : yield* verifyAccessToken(bearer)
        if (Option.isNone(claims)) {
          return {
            status: 401,
            body: JSON.stringify({
              error: { code: "invalid_token", message: "The access token is missing, invalid or expired." }
            }),
            headers: { "content-type": "application/json", "www-authenticate": 'Bearer error="invalid_token"' }
          }
        }
        const auth = claims.value["https://api.openai.com/auth"]
        const accountId = isRecord(auth) ? auth.chatgpt_account_id : undefined
        const header = req.headers["chatgpt-account-id"]
        if (header !== undefined && header !== accountId) {
          return {
            status: 403,
            body: JSON.stringify({
              error: { code: "account_mismatch", message: "ChatGPT-Account-Id does not match the token." }
            }),
            headers: { "content-type": "application/json" }
          }
        }
        return {
          status: 200,
          body: JSON.stringify({
            sub: claims.value.sub,
            client_id: claims.value.client_id,
            account_id: accountId ?? null,
            expires_at: new Date(Number(claims.value.exp) * 1000).toISOString()
          }),
          headers: { "content-type": "application/json" }
        }
      })

    const route = (method: string, path: string, query: URLSearchParams, params: Params): Effect.Effect<Reply> => {
      if (approvalPaths.has(path)) {
        return method === "GET" || method === "POST"
          ? devicePage(path, method, query, params)
          : notAllowed(path, method)
      }
      if (discoveryPaths.has(path))
        return method === "GET" ? Effect.succeed(rfc8628.discovery()) : notAllowed(path, method)
      if (postOnly.has(path) && method !== "POST") return notAllowed(path, method)
      switch (path) {
        case CodexPaths.userCode:
          return codex.issueCode(params)
        case CodexPaths.poll:
          return codex.pollCode(params)
        case Rfc8628Paths.deviceAuthorization:
          return rfc8628.deviceAuthorization(params)
        case Paths.revoke:
          return Effect.succeed(tokens.revoke(params))
        case Paths.token:
          return token(params)
      }
      count("notFound")
      return Effect.succeed(codexError(404, "not_found", `No route for ${method} ${path}.`))
    }

    const faultReply = (fault: Fault): Reply => {
      const body = fault.body ?? JSON.stringify({ error: { code: "injected_fault", message: "Injected fault." } })
      return {
        status: fault.status ?? 500,
        body,
        headers: {
          "content-type": Option.isSome(parseJson(body)) ? "application/json" : "text/plain; charset=utf-8",
          ...fault.headers
        }
      }
    }

    const record = (entry: LocalIssuerRequest): Effect.Effect<void> =>
      Effect.suspend(() => {
        log.push(entry)
        return options.onRequest?.(entry) ?? Effect.void
      })

    function handle(req: IncomingMessage, res: ServerResponse): Effect.Effect<void> {
      return Effect.gen(function* () {
        const method = req.method ?? "GET"
        const target = new URL(req.url ?? "/", url)
        const path = target.pathname.length > 1 ? target.pathname.replace(/\/+$/, "") : target.pathname
        const fault = takeFault(path)
        if (fault !== undefined) {
          count("faults")
          if (fault.reset === true) {
            yield* record({ method, path, status: "reset" })
            req.socket.destroy()
            return
          }
          if (fault.hang === true) {
            yield* record({ method, path, status: "hang" })
            return
          }
          const reply = faultReply(fault)
          yield* record({ method, path, status: reply.status })
          return yield* write(res, reply)
        }
        if (path === Paths.me) {
          const reply = method === "GET" ? yield* me(req) : yield* notAllowed(path, method)
          yield* record({ method, path, status: reply.status })
          return yield* write(res, reply)
        }
        const raw = yield* readBody(req).pipe(Effect.option)
        const params = Option.flatMap(raw, (text) =>
          Option.fromNullable(parseParams(text, req.headers["content-type"] ?? ""))
        )
        const reply = Option.isSome(params)
          ? yield* route(method, path, target.searchParams, params.value)
          : oauthPaths.has(path)
            ? oauthError(400, "invalid_request", "The request body is not valid JSON or form data.")
            : codexError(400, "invalid_request", "The request body is not valid JSON or form data.")
        const grantType = path === Paths.token ? Option.getOrUndefined(params)?.grant_type : undefined
        yield* record({ method, path, status: reply.status, ...(grantType === undefined ? {} : { grantType }) })
        yield* write(res, reply)
      }).pipe(
        Effect.catchAllDefect((defect) =>
          write(res, codexError(500, "server_error", defect instanceof Error ? defect.message : String(defect)))
        )
      )
    }

    return LocalIssuer.of({
      url,
      clientId,
      oidcClientId,
      approve: codes.approve,
      deny: codes.deny,
      expire: codes.expire,
      codes: codes.codes,
      nextCode: codes.nextCode,
      setKnobs: (patch) =>
        Effect.sync(() => {
          knobs = { ...knobs, ...patch }
        }),
      knobs: Effect.sync(() => knobs),
      stats: Effect.sync(() => stats),
      requests: Effect.sync(() => [...log]),
      verifyAccessToken
    })
  })

/** A Layer that runs a LocalIssuer for as long as the layer is in use. */
export const layer = (options?: LocalIssuerOptions): Layer.Layer<LocalIssuer> =>
  Layer.scoped(LocalIssuer, make(options))
