import * as Effect from "effect/Effect"
import { parseApiKeyInput } from "../domain/ApiKey.js"
import type { ApiKeyInputError, LoginMethodError, StoreError } from "../domain/Errors.js"
import type { LoginEvent } from "../domain/LoginEvent.js"
import { apiKeyAuth, type StoredAuth } from "../domain/StoredAuth.js"
import { CredentialStore } from "./CredentialStore.js"
import { replaceSignIn } from "./replaceSignIn.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

/** Options of {@link loginWithApiKey}. */
export interface LoginWithApiKeyOptions {
  /**
   * The key as a person gave it (the CLI: stdin), trimmed and checked here; run only once config.toml's
   * `forced_login_method` allows an API key.
   */
  readonly key: Effect.Effect<string, ApiKeyInputError>
  /** Where the key was read, for the messages of an unusable one: `stdin` (the CLI's) or `app` (default). */
  readonly source?: ApiKeyInputError["source"]
  /** Told where an unreadable old record was moved (`StoreSetAside`), and whether a replaced sign-in was revoked. */
  readonly onEvent?: (event: LoginEvent) => Effect.Effect<void>
}

/** What an API-key login stored. */
export interface ApiKeyLoginResult {
  readonly record: StoredAuth
  readonly location: string
}

/** Any way an API-key login can fail. */
export type ApiKeyLoginError = ApiKeyInputError | LoginMethodError | StoreError

/**
 * Stores an API key as codex's `login --with-api-key` does: allowed by the workspace policy's forced login method,
 * read and checked (not against the server: a key is checked when it is used), and saved under the store's lock in
 * codex's API-key shape, keeping the fields of the old record codex or others added. An unreadable old record is
 * moved aside, not deleted. A ChatGPT or RFC 8628 sign-in it replaces is revoked after the save, as a re-login does,
 * when an `IssuerResolver` is in context (every `DeviceCodeAuth` layer has one; without it nothing is sent).
 */
export const loginWithApiKey: (
  options: LoginWithApiKeyOptions
) => Effect.Effect<ApiKeyLoginResult, ApiKeyLoginError, CredentialStore | WorkspacePolicy> = Effect.fn(
  "loginWithApiKey"
)(function* (options: LoginWithApiKeyOptions) {
  const emit = options.onEvent ?? (() => Effect.void)
  yield* (yield* WorkspacePolicy).checkLoginMethod("apikey")
  const key = yield* Effect.flatMap(options.key, (input) => parseApiKeyInput(input, options.source ?? "app"))
  const store = yield* CredentialStore
  const record = yield* replaceSignIn((extra) => Effect.succeed(apiKeyAuth(key, extra)), emit)
  return { record, location: store.location }
})
