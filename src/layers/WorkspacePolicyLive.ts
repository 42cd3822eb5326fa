import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { type ForcedLoginMethod, makeWorkspacePolicy, WorkspacePolicy } from "../services/WorkspacePolicy.js"
import type { CodexConfig } from "./Config.js"

/**
 * The login policy for forced workspace ids (one or a list, each trimmed; empty or none allows any workspace) and a
 * forced login method (none allows both).
 */
export const layer = (
  forced: Option.Option<string> | ReadonlyArray<string>,
  forcedLoginMethod: Option.Option<ForcedLoginMethod> = Option.none()
): Layer.Layer<WorkspacePolicy> => Layer.succeed(WorkspacePolicy, makeWorkspacePolicy(forced, forcedLoginMethod))

/** The login policy config.toml asks for: `forced_chatgpt_workspace_id` and `forced_login_method`. */
export const layerFromConfig = (config: CodexConfig): Layer.Layer<WorkspacePolicy> =>
  layer(config.forcedWorkspaceIds, config.forcedLoginMethod)
