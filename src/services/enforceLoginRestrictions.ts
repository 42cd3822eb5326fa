import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import type { LoginMethodError, StoreError, WorkspaceError } from "../domain/Errors.js"
import { summarizeSignIn } from "../domain/SignInSummary.js"
import { CredentialStore } from "./CredentialStore.js"
import type { IssuerResolver } from "./IssuerResolver.js"
import { logout, type LogoutOptions } from "./logout.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

/**
 * codex's start-up check (its login crate's `enforce_login_restrictions`): a stored sign-in that config.toml's rules
 * no longer allow — a login method other than the forced one, or a ChatGPT sign-in whose id_token names a workspace
 * other than the forced ones — is logged out (see {@link logout}), and the check fails with why. An RFC 8628 sign-in is
 * no codex sign-in, so neither rule binds it; an unreadable record fails `Corrupt` and is left alone.
 */
export const enforceLoginRestrictions: (
  options?: LogoutOptions
) => Effect.Effect<
  void,
  LoginMethodError | WorkspaceError | StoreError,
  CredentialStore | WorkspacePolicy | IssuerResolver
> = Effect.fn("enforceLoginRestrictions")(function* (options: LogoutOptions = {}) {
  const store = yield* CredentialStore
  const policy = yield* WorkspacePolicy
  const signIn = Option.flatMap(yield* store.load, summarizeSignIn)
  if (Option.isNone(signIn)) return
  const { claims, method } = signIn.value
  const verdict = yield* Effect.either(
    Effect.zipRight(policy.checkLoginMethod(method), method === "chatgpt" ? policy.check(claims) : Effect.void)
  )
  if (Either.isRight(verdict)) return
  yield* logout(options)
  return yield* verdict.left
})
