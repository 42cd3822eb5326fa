import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import { s256Challenge } from "../../domain/Pkce.js"
import type { Dialect, Grant } from "./codes.js"
import type { IssuerContext } from "./context.js"
import { html, json, oauthError, type Params, type Reply } from "./http.js"
import { randomToken } from "./jwt.js"
import { authorizePage, resultPage } from "./page.js"
import type { DialectRoutes, GrantHandler, IssuerRequest, Route } from "./route.js"

/** Where the browser login's sign-in page is, in both dialects (codex's `/oauth/authorize`). */
export const AUTHORIZE_PATH = "/oauth/authorize"

const AUTH_CODE_TTL_MS = 10 * 60 * 1000

/** How a dialect's client signs in at the sign-in page: what its codes grant and what its redirects carry. */
export interface BrowserClient {
  readonly dialect: Dialect
  readonly clientId: string
  /** The scopes a code grants, from the request's `scope`. */
  readonly scope: (requested: string | undefined) => ReadonlyArray<string>
  /** The approval's redirect repeats the requested `scope` (codex's callback reads it). */
  readonly echoScope: boolean
  /** The `iss` every redirect back ends with (RFC 9207), read at each redirect; undefined leaves it out. */
  readonly responseIss: () => string | undefined
}

/** A dialect that also signs in at the sign-in page, as this client. */
export interface BrowserDialectRoutes extends DialectRoutes {
  readonly browser: BrowserClient
}

/** What a code is bound to: the grant it is for, its PKCE challenge and the redirect_uri it was issued for. */
export interface AuthCodeBinding {
  readonly grant: Grant
  readonly challenge: string
  /** The exchange must name it again (RFC 6749 §4.1.3). */
  readonly redirectUri: string
}

interface AuthCodeRecord extends AuthCodeBinding {
  readonly expiresAt: number
  used: boolean
}

/** The authorization codes of both dialects: the sign-in page that issues them and the grant that spends them. */
export interface Authorization {
  /** Records a new code, valid for 10 minutes and for one exchange. */
  readonly issue: (binding: AuthCodeBinding) => Effect.Effect<string>
  /** `grant_type=authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.6) for a code of either dialect. */
  readonly exchange: GrantHandler
  /** The sign-in page at AUTHORIZE_PATH for these clients: GET shows it, POST approves or denies. */
  readonly route: (clients: ReadonlyArray<BrowserClient>) => Route
}

/** An authorization request that passed the checks. */
interface AuthorizeRequest {
  readonly client: BrowserClient
  readonly redirectUri: string
  readonly challenge: string
  readonly state: string
  readonly scope: string | undefined
  readonly nonce: string | undefined
}

const isLoopback = (uri: string): boolean => {
  const url = URL.canParse(uri) ? new URL(uri) : undefined
  return (
    url !== undefined &&
    url.protocol === "http:" &&
    (url.hostname === "127.0.0.1" || url.hostname === "localhost" || url.hostname === "[::1]")
  )
}

// The request is checked before anything is shown or redirected, so a bad redirect_uri is never followed
// (RFC 6749 §4.1.2.1).
const checkRequest = (
  clients: ReadonlyArray<BrowserClient>,
  get: (name: string) => string | undefined
): AuthorizeRequest | { readonly error: string } => {
  const redirectUri = get("redirect_uri") ?? ""
  if (!isLoopback(redirectUri)) return { error: "redirect_uri must be an http URL on loopback." }
  const client = clients.find((client) => client.clientId === get("client_id"))
  if (client === undefined) return { error: "Unknown client_id." }
  if (get("response_type") !== "code") return { error: "response_type must be code." }
  const challenge = get("code_challenge") ?? ""
  if (get("code_challenge_method") !== "S256" || challenge === "") {
    return { error: "A code_challenge with code_challenge_method S256 is required." }
  }
  return { client, redirectUri, challenge, state: get("state") ?? "", scope: get("scope"), nonce: get("nonce") }
}

const backTo = (redirectUri: string, params: Record<string, string>): Reply => {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value)
  return { status: 302, body: "", headers: { location: url.toString(), "cache-control": "no-store" } }
}

const badRequest = (error: string) => html(400, resultPage("Bad sign-in request", error))

/** Makes the authorization-code store, its sign-in page and its grant. */
export const makeAuthorization = (context: Pick<IssuerContext, "count" | "knobs" | "tokens">): Authorization => {
  const { count, knobs, tokens } = context
  const records = new Map<string, AuthCodeRecord>()

  const issue = (binding: AuthCodeBinding) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      const code = `ac_${randomToken(32)}`
      records.set(code, { ...binding, expiresAt: now + AUTH_CODE_TTL_MS, used: false })
      return code
    })

  // The id_token's nonce as the knob has it: the one asked for, another one (even when none was), or none.
  const nonceOf = (grant: Grant): Grant => {
    const { nonce: _nonce, ...rest } = grant
    switch (knobs().idTokenNonce) {
      case "echo":
        return grant
      case "wrong":
        return { ...rest, nonce: `wrong-${randomToken(16)}` }
      case "missing":
        return rest
    }
  }

  const exchange = (params: Params): Effect.Effect<Reply> =>
    Effect.gen(function* () {
      count("exchange")
      const record = records.get(params.code ?? "")
      const now = yield* Clock.currentTimeMillis
      if (record === undefined) return oauthError(400, "invalid_grant", "Unknown authorization code.")
      if (record.used) return oauthError(400, "invalid_grant", "The authorization code was already used.")
      if (now >= record.expiresAt) return oauthError(400, "invalid_grant", "The authorization code has expired.")
      if (params.redirect_uri !== record.redirectUri) {
        return oauthError(400, "invalid_grant", `redirect_uri must be ${record.redirectUri}.`)
      }
      if (params.client_id !== record.grant.clientId) {
        return oauthError(400, "invalid_grant", "client_id does not match.")
      }
      if (params.code_verifier === undefined || s256Challenge(params.code_verifier) !== record.challenge) {
        return oauthError(400, "invalid_grant", "code_verifier does not match the code challenge.")
      }
      record.used = true
      return json(200, yield* tokens.mint(nonceOf(record.grant)))
    })

  const route = (clients: ReadonlyArray<BrowserClient>): Route => {
    // Every redirect back ends with the state and the client's iss (RFC 9207 §2).
    const trailer = (request: AuthorizeRequest): Record<string, string> => {
      const iss = request.client.responseIss()
      return {
        ...(request.state === "" ? {} : { state: request.state }),
        ...(iss === undefined ? {} : { iss })
      }
    }

    const refuse = (request: AuthorizeRequest, error: string, description: string | undefined) =>
      backTo(request.redirectUri, {
        error,
        ...(description === undefined ? {} : { error_description: description }),
        ...trailer(request)
      })

    const approve = (request: AuthorizeRequest) =>
      Effect.gen(function* () {
        const { client } = request
        const code = yield* issue({
          grant: {
            dialect: client.dialect,
            clientId: client.clientId,
            scope: client.scope(request.scope),
            ...(request.nonce === undefined ? {} : { nonce: request.nonce })
          },
          challenge: request.challenge,
          redirectUri: request.redirectUri
        })
        return backTo(request.redirectUri, {
          code,
          ...(client.echoScope ? { scope: request.scope ?? "" } : {}),
          ...trailer(request)
        })
      })

    const show = ({ query }: IssuerRequest): Effect.Effect<Reply> =>
      Effect.sync(() => {
        count("authorizePage")
        const checked = checkRequest(clients, (name) => query.get(name) ?? undefined)
        if ("error" in checked) return badRequest(checked.error)
        return html(
          200,
          authorizePage({ action: AUTHORIZE_PATH, redirectUri: checked.redirectUri, params: [...query] })
        )
      })

    const decide = ({ params }: IssuerRequest): Effect.Effect<Reply> =>
      Effect.suspend(() => {
        count("authorizePage")
        const checked = checkRequest(clients, (name) => params[name])
        if ("error" in checked) return Effect.succeed(badRequest(checked.error))
        if (params.action !== "approve") {
          return Effect.succeed(refuse(checked, "access_denied", "The sign-in was denied."))
        }
        const forced = knobs().authorizeError
        return forced === null ? approve(checked) : Effect.succeed(refuse(checked, forced.error, forced.description))
      })

    return { path: AUTHORIZE_PATH, get: show, post: decide }
  }

  return { issue, exchange, route }
}
