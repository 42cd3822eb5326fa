import { randomInt } from "node:crypto"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { Socket } from "node:net"
import { Clock, Context, DateTime, Duration, Effect, FiberSet, Layer, Option, Queue, type Scope } from "effect"
import { CODEX_CLIENT_ID, codexEndpoints } from "../domain/CodexWire.js"
import { s256Challenge } from "../domain/Pkce.js"
import { makeJwtSigner, randomToken } from "./localIssuer/jwt.js"
import { approvalPage, resultPage } from "./localIssuer/page.js"
import { parseJson } from "../domain/Json.js"

/** How a LocalIssuer behaves; every field has a default. */
export interface LocalIssuerOptions {
  /** 0 or absent: a random free port. */
  readonly port?: number
  /** The only client id the issuer accepts; default the Codex CLI's. */
  readonly clientId?: string
  /** The usercode response's `interval` field; default `"5"` (a string, as the live server); null omits it. */
  readonly interval?: string | number | null
  /** How long a device code stays valid; default 15 minutes. */
  readonly codeTtl?: Duration.DurationInput
  /** Approves each code this long (real time) after it is issued. */
  readonly autoApproveAfter?: Duration.DurationInput
  readonly email?: string
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

/** Misbehaviours a test can switch on while the issuer runs. */
export interface LocalIssuerKnobs {
  /** The next N polls of a pending code answer `slow_down`. */
  readonly slowDownPolls: number
  /** The usercode endpoint answers 404, as a server without device-code login. */
  readonly deviceCodeDisabled: boolean
  readonly faults: ReadonlyArray<Fault>
}

/** Where a device code stands. */
export type LocalIssuerCodeStatus = "pending" | "approved" | "denied" | "expired" | "redeemed"

/** Request counts, per endpoint and per notable answer. */
export interface LocalIssuerStats {
  readonly usercode: number
  readonly poll: number
  /** authorization_code grants at /oauth/token. */
  readonly exchange: number
  /** refresh_token grants at /oauth/token. */
  readonly refresh: number
  /** token-exchange grants (API key) at /oauth/token. */
  readonly tokenExchange: number
  readonly revoke: number
  /** GET and POST of the approval page. */
  readonly devicePage: number
  readonly slowDown: number
  readonly refreshTokenReused: number
  /** Requests answered by a queued fault. */
  readonly faults: number
  readonly notFound: number
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
  readonly clientId: string
  /** Approves a pending code; false if unknown, expired or already decided. */
  readonly approve: (userCode: string) => Effect.Effect<boolean>
  /** Denies a pending code; false if unknown, expired or already decided. */
  readonly deny: (userCode: string) => Effect.Effect<boolean>
  readonly codes: Effect.Effect<ReadonlyArray<{ readonly userCode: string; readonly status: LocalIssuerCodeStatus }>>
  /** Waits for a code not returned by nextCode before, and returns its user code. */
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

const AUTH_CLAIM = "https://api.openai.com/auth"
const PROFILE_CLAIM = "https://api.openai.com/profile"
const USER_ID = "user-local0001"
const USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
const AUTH_CODE_TTL_MS = 10 * 60 * 1000
const MAX_BODY = 1024 * 1024

const Paths = {
  userCode: "/api/accounts/deviceauth/usercode",
  poll: "/api/accounts/deviceauth/token",
  token: "/oauth/token",
  revoke: "/oauth/revoke",
  device: "/codex/device"
} as const

const knownPaths: ReadonlySet<string> = new Set(Object.values(Paths))

const TOKEN_EXCHANGE_GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"

interface DeviceRecord {
  readonly deviceAuthId: string
  readonly userCode: string
  readonly expiresAt: number
  decision: "pending" | "approved" | "denied" | "redeemed"
}

interface AuthCodeRecord {
  readonly challenge: string
  readonly expiresAt: number
  used: boolean
}

interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
}

type Params = Readonly<Record<string, string>>

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(value),
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers }
})

const html = (status: number, body: string): Reply => ({
  status,
  body,
  headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }
})

/** Codex's own endpoints nest the error: `{"error":{"code","message"}}`. */
const codexError = (status: number, code: string, message: string): Reply => json(status, { error: { code, message } })

/** RFC 6749 §5.2 error body. */
const oauthError = (status: number, error: string, description: string): Reply =>
  json(status, { error, error_description: description })

const normalizeUserCode = (code: string): string => code.trim().toUpperCase().replace(/[\s-]/g, "")

const randomUserCode = (): string => {
  const pick = (n: number) =>
    Array.from({ length: n }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join("")
  return `${pick(4)}-${pick(5)}`
}

/** Reads a JSON object or a form body into string parameters; undefined when the body is unreadable. */
const parseParams = (raw: string, contentType: string): Params | undefined => {
  const trimmed = raw.trim()
  if (contentType.includes("json") || trimmed.startsWith("{")) {
    let value: unknown
    try {
      value = JSON.parse(trimmed === "" ? "{}" : trimmed)
    } catch {
      return undefined
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
    const params: Record<string, string> = {}
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === "string") params[key] = v
      else if (typeof v === "number" || typeof v === "boolean") params[key] = String(v)
    }
    return params
  }
  return Object.fromEntries(new URLSearchParams(raw))
}

const readBody = (req: IncomingMessage): Effect.Effect<string, Error> =>
  Effect.async<string, Error>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        cleanup()
        resume(Effect.fail(new Error("request body too large")))
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(error))
    }
    const cleanup = () => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
    }
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
    return Effect.sync(cleanup)
  })

const write = (res: ServerResponse, reply: Reply): Effect.Effect<void> =>
  Effect.sync(() => {
    if (res.headersSent || res.destroyed) return
    res.writeHead(reply.status, { "content-length": Buffer.byteLength(reply.body), ...reply.headers })
    res.end(reply.body)
  })

const emptyStats: LocalIssuerStats = {
  usercode: 0,
  poll: 0,
  exchange: 0,
  refresh: 0,
  tokenExchange: 0,
  revoke: 0,
  devicePage: 0,
  slowDown: 0,
  refreshTokenReused: 0,
  faults: 0,
  notFound: 0
}

/** Starts a LocalIssuer on 127.0.0.1; it stops, promptly, when the scope closes. */
export const make = (options: LocalIssuerOptions = {}): Effect.Effect<LocalIssuer, never, Scope.Scope> =>
  Effect.gen(function* () {
    const clientId = options.clientId ?? CODEX_CLIENT_ID
    const interval = options.interval === undefined ? "5" : options.interval
    const codeTtl = Duration.toMillis(Duration.decode(options.codeTtl ?? Duration.minutes(15)))
    const accessTokenTtlSeconds = Math.floor(Duration.toSeconds(Duration.decode(options.accessTokenTtl ?? "1 hour")))
    const autoApproveAfter = Option.map(Option.fromNullable(options.autoApproveAfter), Duration.decode)
    const email = options.email ?? "dev@example.com"
    const plan = options.plan ?? "plus"
    const accountId = options.accountId === undefined ? "acct_local_0001" : options.accountId
    const signer = makeJwtSigner()

    const devices = new Map<string, DeviceRecord>()
    const byUserCode = new Map<string, DeviceRecord>()
    const authCodes = new Map<string, AuthCodeRecord>()
    const refreshTokens = new Map<string, "active" | "used" | "revoked">()
    const log: Array<LocalIssuerRequest> = []
    let knobs: LocalIssuerKnobs = { slowDownPolls: 0, deviceCodeDisabled: false, faults: [] }
    let stats: LocalIssuerStats = emptyStats
    const count = (key: keyof LocalIssuerStats) => {
      stats = { ...stats, [key]: stats[key] + 1 }
    }

    const scope = yield* Effect.scope
    const issued = yield* Queue.unbounded<string>()
    const run = yield* FiberSet.makeRuntime<never>()
    const liveClock = Clock.make()

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
    const endpoints = codexEndpoints(url)

    const nowMillis = Clock.currentTimeMillis
    const statusOf = (record: DeviceRecord, now: number): LocalIssuerCodeStatus =>
      (record.decision === "pending" || record.decision === "approved") && now >= record.expiresAt
        ? "expired"
        : record.decision

    const decide = (userCode: string, decision: "approved" | "denied"): Effect.Effect<boolean> =>
      Effect.map(nowMillis, (now) => {
        const record = byUserCode.get(normalizeUserCode(userCode))
        if (record === undefined || statusOf(record, now) !== "pending") return false
        record.decision = decision
        return true
      })
    const approve = (userCode: string) => decide(userCode, "approved")
    const deny = (userCode: string) => decide(userCode, "denied")

    const mintTokens = Effect.map(nowMillis, (now) => {
      const iat = Math.floor(now / 1000)
      const exp = iat + accessTokenTtlSeconds
      const auth = {
        ...(accountId === null ? {} : { chatgpt_account_id: accountId }),
        chatgpt_plan_type: plan,
        chatgpt_user_id: USER_ID,
        user_id: USER_ID
      }
      const idToken = signer.sign({
        iss: url,
        aud: clientId,
        sub: `local|${USER_ID}`,
        email,
        email_verified: true,
        iat,
        exp,
        [PROFILE_CLAIM]: { email, email_verified: true },
        [AUTH_CLAIM]: auth
      })
      const accessToken = signer.sign({
        iss: url,
        aud: ["https://api.openai.com/v1"],
        sub: `local|${USER_ID}`,
        client_id: clientId,
        iat,
        exp,
        jti: randomToken(12),
        [AUTH_CLAIM]: auth
      })
      const refreshToken = `rt_${randomToken(32)}`
      refreshTokens.set(refreshToken, "active")
      return {
        id_token: idToken,
        access_token: accessToken,
        refresh_token: refreshToken,
        expires_in: accessTokenTtlSeconds
      }
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

    const issueCode = (params: Params) =>
      Effect.gen(function* () {
        count("usercode")
        if (knobs.deviceCodeDisabled) return codexError(404, "not_found", "Device code login is not enabled.")
        if (params.client_id !== clientId) return codexError(400, "invalid_client", "Unknown client_id.")
        const now = yield* nowMillis
        let userCode = randomUserCode()
        while (byUserCode.has(normalizeUserCode(userCode))) userCode = randomUserCode()
        const record: DeviceRecord = {
          deviceAuthId: `deviceauth_${randomToken(24)}`,
          userCode,
          expiresAt: now + codeTtl,
          decision: "pending"
        }
        devices.set(record.deviceAuthId, record)
        byUserCode.set(normalizeUserCode(userCode), record)
        yield* Queue.offer(issued, userCode)
        if (Option.isSome(autoApproveAfter)) {
          // Real time for the wait, the issuer's clock for the expiry check.
          yield* Effect.sleep(autoApproveAfter.value).pipe(
            Effect.withClock(liveClock),
            Effect.zipRight(approve(userCode)),
            Effect.forkIn(scope)
          )
        }
        return json(200, {
          device_auth_id: record.deviceAuthId,
          user_code: userCode,
          ...(interval === null ? {} : { interval }),
          expires_at: DateTime.formatIso(DateTime.unsafeMake(record.expiresAt))
        })
      })

    const pollCode = (params: Params) =>
      Effect.gen(function* () {
        count("poll")
        const record = devices.get(params.device_auth_id ?? "")
        if (record === undefined || normalizeUserCode(params.user_code ?? "") !== normalizeUserCode(record.userCode)) {
          return codexError(400, "invalid_request", "Unknown device_auth_id and user_code pair.")
        }
        const now = yield* nowMillis
        switch (statusOf(record, now)) {
          case "pending":
            if (knobs.slowDownPolls > 0) {
              knobs = { ...knobs, slowDownPolls: knobs.slowDownPolls - 1 }
              count("slowDown")
              return codexError(403, "slow_down", "Polling too often; slow down.")
            }
            return codexError(403, "deviceauth_authorization_pending", "The sign-in request is still pending.")
          case "approved": {
            record.decision = "redeemed"
            const authorizationCode = `ac_${randomToken(32)}`
            const codeVerifier = randomToken(64)
            const codeChallenge = s256Challenge(codeVerifier)
            authCodes.set(authorizationCode, {
              challenge: codeChallenge,
              expiresAt: now + AUTH_CODE_TTL_MS,
              used: false
            })
            return json(200, {
              authorization_code: authorizationCode,
              code_challenge: codeChallenge,
              code_verifier: codeVerifier
            })
          }
          case "redeemed":
            return codexError(400, "invalid_grant", "The device code was already used.")
          case "denied":
            return codexError(400, "access_denied", "The sign-in request was denied.")
          case "expired":
            return codexError(400, "expired_token", "The device code has expired.")
        }
      })

    const exchangeCode = (params: Params) =>
      Effect.gen(function* () {
        count("exchange")
        const record = authCodes.get(params.code ?? "")
        const now = yield* nowMillis
        if (record === undefined) return oauthError(400, "invalid_grant", "Unknown authorization code.")
        if (record.used) return oauthError(400, "invalid_grant", "The authorization code was already used.")
        if (now >= record.expiresAt) return oauthError(400, "invalid_grant", "The authorization code has expired.")
        if (params.redirect_uri !== endpoints.redirectUri) {
          return oauthError(400, "invalid_grant", `redirect_uri must be ${endpoints.redirectUri}.`)
        }
        if (params.client_id !== clientId) return oauthError(400, "invalid_grant", "client_id does not match.")
        if (params.code_verifier === undefined || s256Challenge(params.code_verifier) !== record.challenge) {
          return oauthError(400, "invalid_grant", "code_verifier does not match the code challenge.")
        }
        record.used = true
        return json(200, yield* mintTokens)
      })

    const refresh = (params: Params) =>
      Effect.gen(function* () {
        count("refresh")
        if (params.client_id !== undefined && params.client_id !== clientId) {
          return codexError(401, "invalid_client", "client_id does not match.")
        }
        const token = params.refresh_token ?? ""
        switch (refreshTokens.get(token)) {
          case undefined:
            return codexError(401, "refresh_token_invalidated", "The refresh token is not valid.")
          case "revoked":
            return codexError(401, "refresh_token_invalidated", "The refresh token was revoked.")
          case "used":
            count("refreshTokenReused")
            return codexError(401, "refresh_token_reused", "The refresh token was already used.")
          case "active":
            refreshTokens.set(token, "used")
            return json(200, yield* mintTokens)
        }
      })

    // What codex's browser login does after its exchange, to get an API key (grant type from RFC 8693).
    const tokenExchange = (params: Params): Reply => {
      count("tokenExchange")
      if (params.client_id !== undefined && params.client_id !== clientId) {
        return oauthError(400, "invalid_client", "client_id does not match.")
      }
      if (signer.verify(params.subject_token ?? "") === undefined) {
        return oauthError(400, "invalid_grant", "subject_token is not an id_token of this issuer.")
      }
      return json(200, {
        access_token: `sk-local-${randomToken(24)}`,
        issued_token_type: "urn:ietf:params:oauth:token-type:access_token",
        token_type: "Bearer"
      })
    }

    const revoke = (params: Params): Reply => {
      count("revoke")
      const token = params.token ?? ""
      if (refreshTokens.has(token)) refreshTokens.set(token, "revoked")
      return json(200, {})
    }

    const devicePage = (method: string, query: URLSearchParams, params: Params) =>
      Effect.gen(function* () {
        count("devicePage")
        if (method === "GET") {
          return html(200, approvalPage({ action: Paths.device, userCode: query.get("user_code") ?? "" }))
        }
        const userCode = params.user_code ?? ""
        if (params.action === "approve") {
          return (yield* approve(userCode))
            ? html(200, resultPage("Approved", "Approved. You can return to your terminal."))
            : html(400, resultPage("Unknown or expired code", "Unknown or expired code.", Paths.device))
        }
        if (params.action === "deny") {
          return (yield* deny(userCode))
            ? html(200, resultPage("Denied", "Denied."))
            : html(400, resultPage("Unknown or expired code", "Unknown or expired code.", Paths.device))
        }
        return html(400, resultPage("Unknown action", "Choose Approve or Deny.", Paths.device))
      })

    const route = (method: string, path: string, query: URLSearchParams, params: Params): Effect.Effect<Reply> => {
      if (path === Paths.device && (method === "GET" || method === "POST")) return devicePage(method, query, params)
      if (knownPaths.has(path) && method !== "POST") {
        return Effect.succeed(codexError(405, "method_not_allowed", `${method} is not allowed.`))
      }
      switch (path) {
        case Paths.userCode:
          return issueCode(params)
        case Paths.poll:
          return pollCode(params)
        case Paths.revoke:
          return Effect.succeed(revoke(params))
        case Paths.token:
          switch (params.grant_type) {
            case "authorization_code":
              return exchangeCode(params)
            case "refresh_token":
              return refresh(params)
            case TOKEN_EXCHANGE_GRANT:
              return Effect.succeed(tokenExchange(params))
            default:
              return Effect.succeed(
                oauthError(
                  400,
                  "unsupported_grant_type",
                  `grant_type ${params.grant_type ?? "(none)"} is not supported.`
                )
              )
          }
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
        const raw = yield* readBody(req).pipe(Effect.option)
        const params = Option.flatMap(raw, (text) =>
          Option.fromNullable(parseParams(text, req.headers["content-type"] ?? ""))
        )
        const reply = Option.isSome(params)
          ? yield* route(method, path, target.searchParams, params.value)
          : path === Paths.token || path === Paths.revoke
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
      approve,
      deny,
      codes: Effect.map(nowMillis, (now) =>
        Array.from(devices.values(), (record) => ({ userCode: record.userCode, status: statusOf(record, now) }))
      ),
      nextCode: Queue.take(issued),
      setKnobs: (patch) =>
        Effect.sync(() => {
          knobs = { ...knobs, ...patch }
        }),
      knobs: Effect.sync(() => knobs),
      stats: Effect.sync(() => stats),
      requests: Effect.sync(() => [...log]),
      verifyAccessToken: (token) =>
        Effect.map(nowMillis, (now) => {
          const claims = signer.verify(token)
          return claims !== undefined &&
            typeof claims.client_id === "string" &&
            typeof claims.exp === "number" &&
            claims.exp * 1000 > now
            ? Option.some(claims)
            : Option.none()
        })
    })
  })

/** A Layer that runs a LocalIssuer for as long as the layer is in use. */
export const layer = (options?: LocalIssuerOptions): Layer.Layer<LocalIssuer> =>
  Layer.scoped(LocalIssuer, make(options))
