import * as Effect from "effect/Effect"
import type { IdTokenClaims } from "../domain/IdTokenClaims.js"
import { WorkspacePolicy } from "./WorkspacePolicy.js"

/** Stage 4: refuses a workspace other than the forced one, before anything is saved (codex-protocol.md §6). */
export const ensureWorkspaceAllowed = Effect.fn("ensureWorkspaceAllowed")(function* (claims: IdTokenClaims) {
  return yield* (yield* WorkspacePolicy).check(claims)
})
