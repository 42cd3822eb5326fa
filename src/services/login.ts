import { DateTime, Effect, Option } from "effect"
import type { DeviceAuthError, StoreError, WorkspaceError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { LoginEvent } from "../domain/LoginEvent.js"
import type { StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "./CredentialStore.js"
import { DeviceAuthorization } from "./DeviceAuthorization.js"
import { ensureWorkspaceAllowed } from "./ensureWorkspaceAllowed.js"
import { exchangeCodeForTokens } from "./exchangeCodeForTokens.js"
import { persistTokens } from "./persistTokens.js"
import type { Pkce } from "./Pkce.js"
import { loginDeadline, pollForAuthorization } from "./pollForAuthorization.js"
import { requestDeviceCode } from "./requestDeviceCode.js"
import type { WorkspacePolicy } from "./WorkspacePolicy.js"

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
export type LoginError = DeviceAuthError | WorkspaceError | StoreError

/**
 * The device-code login: request a code, show it (via `onEvent`), poll until approved, exchange, check the
 * workspace, and only then store. Nothing is written unless every step before the write succeeded.
 */
export const login = (
  options: LoginOptions = {}
): Effect.Effect<LoginResult, LoginError, DeviceAuthorization | CredentialStore | WorkspacePolicy | Pkce> =>
  Effect.gen(function* () {
    const emit = options.onEvent ?? (() => Effect.void)
    const store = yield* CredentialStore

    yield* store.load.pipe(
      Effect.catchIf(
        (error) => error.reason === "Corrupt",
        (error) => Effect.as(emit(LoginEvent.StoreUnreadable({ detail: error.message })), Option.none())
      )
    )

    const code = yield* requestDeviceCode({ onEvent: emit })
    const deadline = loginDeadline(code, yield* DateTime.now)
    yield* emit(LoginEvent.CodeIssued({ code, deadline }))
    const grant = yield* pollForAuthorization(code, { deadline, onEvent: emit })
    yield* emit(LoginEvent.Approved())
    const { claims, tokens } = yield* exchangeCodeForTokens(grant, { onEvent: emit })
    yield* ensureWorkspaceAllowed(claims)
    const record = yield* persistTokens(tokens, claims)
    yield* emit(LoginEvent.LoggedIn({ claims, location: store.location }))
    return { claims, record, location: store.location }
  }).pipe(Effect.withSpan("login"))
