import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { LoginMethodError, WorkspaceError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import type { AuthMethod } from "../domain/StoredAuth.js"

/** The values of config.toml's `forced_login_method` (codex-protocol.md §9). */
export type ForcedLoginMethod = "chatgpt" | "api"

/** Every {@link ForcedLoginMethod}. */
export const forcedLoginMethods: ReadonlyArray<ForcedLoginMethod> = ["chatgpt", "api"]

/**
 * Whether `forced` allows signing in with `method`: `api` refuses a ChatGPT sign-in, `chatgpt` an API key, each with
 * codex's message. An RFC 8628 sign-in is no codex sign-in, so neither refuses it.
 */
export const checkLoginMethod = (
  forced: Option.Option<ForcedLoginMethod>,
  method: AuthMethod
): Effect.Effect<void, LoginMethodError> => {
  const only = Option.getOrUndefined(forced)
  if (only === "api" && method === "chatgpt") return Effect.fail(new LoginMethodError({ reason: "ChatgptDisabled" }))
  if (only === "chatgpt" && method === "apikey") return Effect.fail(new LoginMethodError({ reason: "ApiKeyDisabled" }))
  return Effect.void
}

/**
 * The login rules of config.toml: which way of signing in is allowed (checked before a code is asked for), and which
 * workspace (checked before anything is saved; codex-protocol.md §6).
 */
export class WorkspacePolicy extends Context.Tag("devicecode/WorkspacePolicy")<
  WorkspacePolicy,
  {
    /** The workspaces a ChatGPT sign-in may belong to; empty allows any. */
    readonly forcedWorkspaceIds: ReadonlyArray<string>
    readonly forcedLoginMethod: Option.Option<ForcedLoginMethod>
    readonly check: (claims: IdTokenClaims) => Effect.Effect<void, WorkspaceError>
    readonly checkLoginMethod: (method: AuthMethod) => Effect.Effect<void, LoginMethodError>
  }
>() {}

/** Forced workspace ids as codex reads them: each trimmed, empty ones dropped. */
export const forcedWorkspaceIds = (ids: ReadonlyArray<string>): ReadonlyArray<string> =>
  ids.map((id) => id.trim()).filter((id) => id !== "")

/**
 * The policy for forced workspace ids (one, or a list, as config.toml's `forced_chatgpt_workspace_id`; each trimmed,
 * empty ones dropped; none allows any workspace) and a forced login method.
 */
export const make = (
  forced: Option.Option<string> | ReadonlyArray<string>,
  forcedLoginMethod: Option.Option<ForcedLoginMethod> = Option.none()
): WorkspacePolicy["Type"] => {
  const expected = forcedWorkspaceIds(Option.isOption(forced) ? Option.toArray(forced) : forced)
  return {
    forcedWorkspaceIds: expected,
    forcedLoginMethod,
    check: (claims) => {
      if (expected.length === 0) return Effect.void
      return Option.match(claims.accountId, {
        onNone: () => Effect.fail(new WorkspaceError({ reason: "MissingClaim", expected })),
        onSome: (actual) =>
          expected.includes(actual) ? Effect.void : Effect.fail(new WorkspaceError({ reason: "Mismatch", expected }))
      })
    },
    checkLoginMethod: (method) => checkLoginMethod(forcedLoginMethod, method)
  }
}

/**
 * The login policy for forced workspace ids (one or a list, each trimmed; empty or none allows any workspace) and a
 * forced login method (none allows both).
 */
export const layer = (
  forced: Option.Option<string> | ReadonlyArray<string>,
  forcedLoginMethod: Option.Option<ForcedLoginMethod> = Option.none()
): Layer.Layer<WorkspacePolicy> => Layer.succeed(WorkspacePolicy, make(forced, forcedLoginMethod))

/** The login policy config.toml asks for (a CodexConfig): `forced_chatgpt_workspace_id` and `forced_login_method`. */
export const layerFromConfig = (config: {
  readonly forcedWorkspaceIds: ReadonlyArray<string>
  readonly forcedLoginMethod: Option.Option<ForcedLoginMethod>
}): Layer.Layer<WorkspacePolicy> => layer(config.forcedWorkspaceIds, config.forcedLoginMethod)
