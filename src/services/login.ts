import * as DateTime from "effect/DateTime"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import { type DeviceAuthError, type LoginMethodError, StoreError, type WorkspaceError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import type { TokenSet } from "../domain/TokenSet.js"
import { CredentialStore, keepAfter } from "./CredentialStore.js"
import { IssuerResolver } from "./IssuerResolver.js"
import { LoginFlow } from "./LoginFlow.js"
import { ensureWorkspaceAllowed } from "./ensureWorkspaceAllowed.js"
import { exchangeCodeForTokens } from "./exchangeCodeForTokens.js"
import { persistTokens, signInRecord } from "./persistTokens.js"
import { loginDeadline, pollForAuthorization } from "./pollForAuthorization.js"
import { requestDeviceCode } from "./requestDeviceCode.js"
import { revokeTokens } from "./revokeTokens.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

// the stages of `login`, each in its own module, for an app that runs them one by one
export { ensureWorkspaceAllowed } from "./ensureWorkspaceAllowed.js"
export { exchangeCodeForTokens } from "./exchangeCodeForTokens.js"
export { persistTokens, signInRecord } from "./persistTokens.js"
export { loginDeadline, pollForAuthorization } from "./pollForAuthorization.js"
export { requestDeviceCode } from "./requestDeviceCode.js"

/** Options of {@link login}. */
export interface LoginOptions {
  /** Receives progress: render it, log it, or ignore it. */
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

/** What a successful login stored. */
export interface LoginResult {
  readonly claims: IdTokenClaims
  readonly record: StoredAuth
  readonly location: string
}

/** Any way a login can fail; interruption (Ctrl-C) is not a failure and writes nothing. */
export type LoginError = DeviceAuthError | WorkspaceError | LoginMethodError | StoreError

/**
 * Before a code is asked for, so that nobody approves a sign-in that would be refused or could not be kept:
 * config.toml's `forced_login_method` allows this dialect's sign-in, and the store can save one now.
 */
export const preflightLogin: Effect.Effect<
  void,
  LoginMethodError | StoreError,
  LoginFlow | CredentialStore | WorkspacePolicy
> = Effect.gen(function* () {
  const flow = yield* LoginFlow
  const policy = yield* WorkspacePolicy
  const store = yield* CredentialStore
  yield* policy.checkLoginMethod(flow.authMode)
  yield* store.preflight
}).pipe(Effect.withSpan("preflightLogin"))

/**
 * A save that failed after the approval leaves issued tokens nobody holds: unless they were kept beside the store
 * (`keepUnsaved`), they are revoked (best effort, 10 s at most: the refresh token, else the access token), and the
 * error says whether they were.
 */
const revokeUnsaved = (
  tokens: TokenSet,
  error: StoreError
): Effect.Effect<never, StoreError, LoginFlow | IssuerResolver> =>
  Effect.gen(function* () {
    const client = yield* (yield* IssuerResolver).forSignIn((yield* LoginFlow).origin)
    const revoked = yield* revokeTokens(client, tokens).pipe(Effect.orElseSucceed(() => false))
    const { detail, path, reason } = error
    return yield* new StoreError({ reason, path, detail, afterApproval: revoked ? "Revoked" : "NotRevoked" })
  })

/** Before a login asks for anything: a stored sign-in that cannot be read is told (`StoreUnreadable`), not fatal. */
export const noticeUnreadableStore = (
  emit: (event: LoginEvent) => Effect.Effect<void>
): Effect.Effect<void, StoreError, CredentialStore> =>
  Effect.flatMap(CredentialStore, (store) =>
    store.load.pipe(
      Effect.asVoid,
      Effect.catchIf(
        (error) => error.reason === "Corrupt",
        (error) => emit(LoginEvent.StoreUnreadable({ detail: error.message }))
      )
    )
  )

/**
 * The end of every login, once its tokens are exchanged and their workspace checked: save them; tokens the store did
 * not take are kept beside it for the next command to adopt (`CredentialStore.keep`), or revoked where they cannot be.
 */
export const saveSignIn = (
  tokens: TokenSet,
  claims: IdTokenClaims,
  emit: (event: LoginEvent) => Effect.Effect<void>,
  apiKey: Option.Option<Redacted.Redacted<string>> = Option.none()
): Effect.Effect<LoginResult, StoreError, LoginFlow | IssuerResolver | CredentialStore> =>
  Effect.gen(function* () {
    const store = yield* CredentialStore
    const record = yield* persistTokens(tokens, claims, { onEvent: emit, apiKey }).pipe(
      Effect.catchTag("StoreError", (error) =>
        Effect.flatMap(signInRecord(tokens, claims, [], apiKey), (unsaved) => keepAfter(store, unsaved, error))
      ),
      Effect.catchIf(
        (error) => error.keptIn === undefined,
        (error) => revokeUnsaved(tokens, error)
      )
    )
    yield* emit(LoginEvent.LoggedIn({ claims, location: store.location }))
    return { claims, record, location: store.location }
  })

/**
 * The device-code login: check that this sign-in is allowed and can be stored, request a code, show it (via
 * `onEvent`), poll until approved, exchange, check the workspace, and only then store. Nothing is written unless every
 * step before the write succeeded. Tokens issued but not stored are kept beside the store for the next command to adopt
 * (`CredentialStore.keep`), or revoked where they cannot be; those of the sign-in the new one replaced (a re-login,
 * or the earlier of two concurrent logins) are revoked once the new one is stored.
 */
export const login: (
  options?: LoginOptions
) => Effect.Effect<LoginResult, LoginError, LoginFlow | IssuerResolver | CredentialStore | WorkspacePolicy> = Effect.fn(
  "login"
)(function* (options: LoginOptions = {}) {
  const emit = options.onEvent ?? (() => Effect.void)

  yield* preflightLogin
  yield* noticeUnreadableStore(emit)

  const code = yield* requestDeviceCode({ onEvent: emit })
  const deadline = loginDeadline(code, yield* DateTime.now)
  yield* emit(LoginEvent.CodeIssued({ code, deadline }))
  const grant = yield* pollForAuthorization(code, { deadline, onEvent: emit })
  yield* emit(LoginEvent.Approved())
  const { claims, tokens } = yield* exchangeCodeForTokens(grant, { onEvent: emit })
  yield* ensureWorkspaceAllowed(claims)
  return yield* saveSignIn(tokens, claims, emit)
})
