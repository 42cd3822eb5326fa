import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import {
  CODEX_NOT_ENABLED,
  failedPage,
  MISSING_CODEX_ENTITLEMENT,
  NO_CODEX_ACCESS_PAGE,
  SUCCESS_PAGE
} from "../domain/CallbackPages.js"
import { sanitizeServerText } from "../domain/CodexWire.js"
import { DeviceAuthError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import type { TokenSet } from "../domain/TokenSet.js"
import {
  CallbackAnswer,
  type CallbackRequest,
  CallbackServer,
  type CallbackServerError,
  type OpenCallbackServer
} from "./CallbackServer.js"
import type { CredentialStore } from "./CredentialStore.js"
import { ensureWorkspaceAllowed } from "./ensureWorkspaceAllowed.js"
import { exchangeCodeForTokens } from "./exchangeCodeForTokens.js"
import type { IssuerResolver } from "./IssuerResolver.js"
import {
  type LoginError,
  type LoginOptions,
  type LoginResult,
  noticeUnreadableStore,
  preflightLogin,
  saveSignIn
} from "./login.js"
import { AuthorizationGrant, LoginFlow } from "./LoginFlow.js"
import { Pkce } from "./Pkce.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

/** Options of {@link browserLogin}. */
export interface BrowserLoginOptions extends LoginOptions {
  /** The loopback port of the callback server; the dialect's own by default (codex: 1455; RFC 8628: any free one). */
  readonly port?: number
  /** How long the login waits for the browser to come back (default: codex's 10 minutes). */
  readonly timeout?: Duration.DurationInput
}

/** How long a browser login waits for the browser by default: codex's 10 minutes. */
export const BROWSER_LOGIN_TIMEOUT = Duration.minutes(10)

/** How long a finished login keeps its server open for the browser to load `/success`. */
const SUCCESS_PAGE_BOUND = Duration.seconds(5)

const page = (status: number, html: string) => CallbackAnswer.Page({ status, body: html, html: true })

/** The callback of this login: its code, and how to answer the browser once the sign-in is saved (or not). */
interface Callback {
  readonly code: Redacted.Redacted<string>
  readonly respond: CallbackRequest["respond"]
}

/**
 * Callbacks until one carries this login's `state` (RFC 6749 §10.12): a forged or stale one is answered 400 `State
 * mismatch` and never exchanged. Then, for a provider that sends `iss` (RFC 9207), the issuer is checked before
 * anything else is read; an `error` ends the login `Denied` with its description, sanitised; no code is `Malformed`.
 */
const awaitCallback = (
  server: OpenCallbackServer,
  state: string,
  responseIss: Option.Option<string>,
  failed: (reason: DeviceAuthError["reason"], detail: string) => DeviceAuthError
): Effect.Effect<Callback, DeviceAuthError> =>
  Effect.gen(function* () {
    for (;;) {
      const request = yield* server.next
      const param = (name: string) => request.params.get(name)
      if (param("state") !== state) {
        yield* request.respond(CallbackAnswer.Page({ status: 400, body: "State mismatch", html: false }))
        continue
      }
      if (Option.isSome(responseIss) && param("iss") !== responseIss.value) {
        const sent = param("iss")
        const detail =
          sent === undefined
            ? "the redirect carried no iss, though the provider says it sends one (RFC 9207)"
            : `the redirect's iss "${sanitizeServerText(sent, 200)}" is not the issuer (RFC 9207: a mix-up)`
        yield* request.respond(page(400, failedPage("The sign-in came back from another issuer.")))
        return yield* failed("Rejected", detail)
      }
      const error = param("error")
      if (error !== undefined) {
        const description = param("error_description")
        if (description === MISSING_CODEX_ENTITLEMENT) {
          yield* request.respond(page(200, NO_CODEX_ACCESS_PAGE))
          return yield* failed("Denied", CODEX_NOT_ENABLED)
        }
        const reason = sanitizeServerText(description ?? error, 300)
        yield* request.respond(page(200, failedPage(reason)))
        return yield* failed("Denied", reason)
      }
      const code = param("code")
      if (code === undefined || code === "") {
        yield* request.respond(page(400, failedPage("Missing authorization code.")))
        return yield* failed("Malformed", "the redirect carried no authorization code")
      }
      return { code: Redacted.make(code), respond: request.respond }
    }
  })

/** An exchange failure told as the browser sign-in's (its step is a device login's "device code exchange"). */
const asBrowserStep = (error: DeviceAuthError): DeviceAuthError =>
  error.step !== "exchange"
    ? error
    : new DeviceAuthError({
        reason: error.reason,
        issuer: error.issuer,
        step: "authorize",
        ...(error.status === undefined ? {} : { status: error.status }),
        ...(error.code === undefined ? {} : { code: error.code }),
        ...(error.detail === undefined ? {} : { detail: error.detail }),
        ...(error.retryAfter === undefined ? {} : { retryAfter: error.retryAfter })
      })

/** codex's best-effort API key: the dialect's token exchange for the id_token; none when it has none or it fails. */
const apiKeyOf = (tokens: TokenSet): Effect.Effect<Option.Option<Redacted.Redacted<string>>, never, LoginFlow> =>
  Effect.flatMap(LoginFlow, (flow) =>
    Option.match(Option.all([flow.exchangeApiKey, tokens.idToken]), {
      onNone: () => Effect.succeedNone,
      onSome: ([exchange, idToken]) =>
        exchange(idToken).pipe(
          Effect.asSome,
          Effect.catchAll((error) =>
            Effect.as(Effect.logDebug(`no API key (it is stored as null): ${error.message}`), Option.none())
          )
        )
    })
  )

/**
 * The browser login (authorization code + PKCE on a loopback redirect, RFC 8252): the same checks as `login`, a
 * client-made PKCE pair, `state` (and an OpenID Connect `nonce` where the dialect sends one), a callback server open
 * for the login only, the authorization URL told through `onEvent` (`BrowserSignIn`) for the caller to open or show,
 * then one callback with the right `state` (see {@link awaitCallback}): exchanged, its workspace checked, an API key
 * asked for where the dialect has one (codex), saved as `login` saves, and the browser sent to `/success`. Another
 * login asking for the port (`GET /cancel`) ends this one `Denied`; after `timeout` it ends `TimedOut`. Interruption
 * closes the server and writes nothing.
 */
export const browserLogin: (
  options?: BrowserLoginOptions
) => Effect.Effect<
  LoginResult,
  LoginError | CallbackServerError,
  LoginFlow | IssuerResolver | CredentialStore | WorkspacePolicy | Pkce | CallbackServer
> = Effect.fn("browserLogin")(function* (options: BrowserLoginOptions = {}) {
  const emit = options.onEvent ?? (() => Effect.void)
  const flow = yield* LoginFlow
  const pkce = yield* Pkce
  const policy = yield* WorkspacePolicy
  const { browserRedirect } = flow

  yield* preflightLogin
  yield* noticeUnreadableStore(emit)
  const codes = yield* pkce.generate
  const state = yield* pkce.state
  const nonce = browserRedirect.sendsNonce ? Option.some(yield* pkce.state) : Option.none()
  const timeout = Duration.decode(options.timeout ?? BROWSER_LOGIN_TIMEOUT)
  const failed = (reason: DeviceAuthError["reason"], detail: string) =>
    new DeviceAuthError({ reason, issuer: flow.issuer, step: "authorize", detail })

  return yield* Effect.scoped(
    Effect.gen(function* () {
      const server = yield* (yield* CallbackServer).open({
        port: options.port ?? browserRedirect.defaultPort,
        callbackPath: browserRedirect.callbackPath,
        successPage: SUCCESS_PAGE
      })
      const redirectUri = browserRedirect.redirectUri(server.port)
      const { responseIss, url } = yield* flow.authorizeUrl({
        redirectUri,
        codeChallenge: codes.challenge,
        state,
        nonce,
        allowedWorkspaceId:
          policy.forcedWorkspaceIds.length === 1 ? Option.some(policy.forcedWorkspaceIds[0]!) : Option.none()
      })
      yield* emit(LoginEvent.BrowserSignIn({ url, port: server.port }))

      const callback = yield* awaitCallback(server, state, responseIss, failed).pipe(
        Effect.raceFirst(
          Effect.zipRight(
            server.cancelled,
            Effect.fail(failed("Denied", "another login on this port cancelled this one"))
          )
        ),
        Effect.timeoutFail({
          duration: timeout,
          onTimeout: () => failed("TimedOut", Duration.format(timeout))
        })
      )

      yield* emit(LoginEvent.Approved())
      const result = yield* Effect.gen(function* () {
        const grant = AuthorizationGrant.AuthorizationCode({
          code: callback.code,
          codeVerifier: codes.verifier,
          codeChallenge: codes.challenge,
          redirectUri,
          ...Option.match(nonce, { onNone: () => ({}), onSome: (value) => ({ nonce: value }) })
        })
        const { claims, tokens } = yield* exchangeCodeForTokens(grant, { onEvent: emit }).pipe(
          Effect.mapError(asBrowserStep)
        )
        yield* ensureWorkspaceAllowed(claims)
        return yield* saveSignIn(tokens, claims, emit, yield* apiKeyOf(tokens))
      }).pipe(
        Effect.tapError((error) =>
          callback.respond(
            page(
              200,
              failedPage(
                error._tag === "StoreError"
                  ? "Sign-in completed but credentials could not be saved locally."
                  : error.message
              )
            )
          )
        )
      )
      yield* callback.respond(CallbackAnswer.Redirect({ location: `http://127.0.0.1:${server.port}/success` }))
      // the browser follows to /success on this server: it stays open for that (a few seconds at most)
      yield* server.successServed.pipe(Effect.timeout(SUCCESS_PAGE_BOUND), Effect.ignore)
      return result
    })
  )
})
