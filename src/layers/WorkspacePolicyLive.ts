import { Layer, type Option } from "effect"
import { makeWorkspacePolicy, WorkspacePolicy } from "../services/WorkspacePolicy.js"
import type { CodexConfig } from "./Config.js"

/** The workspace policy for a forced workspace id (trimmed; empty or none allows any workspace). */
export const layer = (forced: Option.Option<string>): Layer.Layer<WorkspacePolicy> =>
  Layer.succeed(WorkspacePolicy, makeWorkspacePolicy(forced))

/** The workspace policy that config.toml's `forced_chatgpt_workspace_id` asks for. */
export const layerFromConfig = (config: CodexConfig): Layer.Layer<WorkspacePolicy> => layer(config.forcedWorkspaceId)
