import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { DeviceAuthError } from "../domain/Errors.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import { sanitizeServerText } from "../domain/CodexWire.js"
import { CallbackAnswer, CallbackServer, type CallbackServerError } from "./CallbackServer.js"
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

/** How long a finished login keeps its server open for the browser to load `/success`. */
const SUCCESS_PAGE_BOUND = Duration.seconds(5)

const SUCCESS_PAGE = `<!doctype html><meta charset="utf-8"><title>Signed in</title>
<p>Signed in. You can close this window and go back to the terminal.</p>`

/**
 * The browser login (authorization code + PKCE on a loopback redirect, RFC 8252): the same checks as `login`, a
 * client-made PKCE pair and `state`, a callback server open for the login only, the authorization URL told through
 * `onEvent` (`BrowserSignIn`) for the caller to open or show, then one callback with the right `state`: exchanged,
 * its workspace checked, saved as `login` saves, and the browser sent to `/success`. A callback with another `state`
 * is answered 400 `State mismatch` and never exchanged; an `error` from the provider ends the login `Denied` with its
 * description, sanitised. Interruption closes the server and writes nothing.
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

  return yield* Effect.scoped(
    Effect.gen(function* () {
      const server = yield* (yield* CallbackServer).open({
        port: options.port ?? browserRedirect.defaultPort,
        callbackPath: browserRedirect.callbackPath,
        successPage: SUCCESS_PAGE
      })
      const redirectUri = browserRedirect.redirectUri(server.port)
      const url = yield* flow.authorizeUrl({
        redirectUri,
        codeChallenge: codes.challenge,
        state,
        nonce: Option.none(),
        allowedWorkspaceId:
          policy.forcedWorkspaceIds.length === 1 ? Option.some(policy.forcedWorkspaceIds[0]!) : Option.none()
      })
      yield* emit(LoginEvent.BrowserSignIn({ url, port: server.port }))

      const failed = (reason: DeviceAuthError["reason"], detail: string) =>
        new DeviceAuthError({ reason, issuer: flow.issuer, step: "authorize", detail })

      // callbacks until one carries this login's state; a forged or stale one is refused and never exchanged
      const callback = yield* Effect.gen(function* () {
        for (;;) {
          const request = yield* server.next
          if (request.params.get("state") !== state) {
            yield* request.respond(CallbackAnswer.Page({ status: 400, body: "State mismatch", html: false }))
            continue
          }
          const error = request.params.get("error")
          if (error !== undefined) {
            const description = sanitizeServerText(request.params.get("error_description") ?? error, 300)
            yield* request.respond(
              CallbackAnswer.Page({ status: 200, body: `Sign-in failed: ${description}`, html: false })
            )
            return yield* failed("Denied", description)
          }
          const code = request.params.get("code")
          if (code === undefined || code === "") {
            yield* request.respond(
              CallbackAnswer.Page({ status: 400, body: "Missing authorization code.", html: false })
            )
            return yield* failed("Malformed", "the redirect carried no authorization code")
          }
          return { code: Redacted.make(code), respond: request.respond }
        }
      }).pipe(
        Effect.raceFirst(
          Effect.zipRight(
            server.cancelled,
            Effect.fail(failed("Denied", "another login on this port cancelled this one"))
          )
        ),
        Effect.timeoutFail({
          duration: options.timeout ?? Duration.minutes(10),
          onTimeout: () => failed("TimedOut", "the browser did not come back in time")
        })
      )

      yield* emit(LoginEvent.Approved())
      const signedIn = Effect.gen(function* () {
        const grant = AuthorizationGrant.AuthorizationCode({
          code: callback.code,
          codeVerifier: codes.verifier,
          codeChallenge: codes.challenge,
          redirectUri
        })
        const { claims, tokens } = yield* exchangeCodeForTokens(grant, { onEvent: emit })
        yield* ensureWorkspaceAllowed(claims)
        return yield* saveSignIn(tokens, claims, emit)
      })
      const result = yield* signedIn.pipe(
        Effect.tapError((error) =>
          callback.respond(CallbackAnswer.Page({ status: 200, body: `Sign-in failed: ${error.message}`, html: false }))
        )
      )
      yield* callback.respond(CallbackAnswer.Redirect({ location: `http://127.0.0.1:${server.port}/success` }))
      // the browser follows to /success on this server: it stays open for that (a few seconds at most)
      yield* server.successServed.pipe(Effect.timeout(SUCCESS_PAGE_BOUND), Effect.ignore)
      return result
    })
  )
})
