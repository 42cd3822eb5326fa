import { Context, Effect, Option } from "effect"
import { WorkspaceError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"

/** Allows or refuses the signed-in workspace before anything is saved (codex-protocol.md §6). */
export class WorkspacePolicy extends Context.Tag("devicecode/WorkspacePolicy")<
  WorkspacePolicy,
  {
    readonly forcedWorkspaceId: Option.Option<string>
    readonly check: (claims: IdTokenClaims) => Effect.Effect<void, WorkspaceError>
  }
>() {}

/** The policy for a forced workspace id (trimmed; empty means none). */
export const makeWorkspacePolicy = (forced: Option.Option<string>): WorkspacePolicy["Type"] => {
  const forcedWorkspaceId = forced.pipe(
    Option.map((id) => id.trim()),
    Option.filter((id) => id !== "")
  )
  return {
    forcedWorkspaceId,
    check: (claims) =>
      Option.match(forcedWorkspaceId, {
        onNone: () => Effect.void,
        onSome: (expected) =>
          Option.match(claims.accountId, {
            onNone: () => Effect.fail(new WorkspaceError({ reason: "MissingClaim", expected })),
            onSome: (actual) =>
              actual === expected ? Effect.void : Effect.fail(new WorkspaceError({ reason: "Mismatch", expected }))
          })
      })
  }
}
