import * as Effect from "effect/Effect"
import type { WorkspaceError } from "../domain/Errors.js"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

/** Stage 4: refuses a workspace other than the forced one, before anything is saved (codex-protocol.md §6). */
export const ensureWorkspaceAllowed = (claims: IdTokenClaims): Effect.Effect<void, WorkspaceError, WorkspacePolicy> =>
  Effect.flatMap(WorkspacePolicy, (policy) => policy.check(claims)).pipe(Effect.withSpan("ensureWorkspaceAllowed"))
