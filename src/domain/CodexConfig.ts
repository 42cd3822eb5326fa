import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/** Where credentials live, as `cli_auth_credentials_store` in config.toml names it. */
export const CredentialsStoreKind = Schema.Literal("file", "keyring", "auto", "ephemeral")

/** Where credentials live: `file`, `keyring`, `auto` or `ephemeral`. */
export type CredentialsStoreKind = typeof CredentialsStoreKind.Type

/** The values `cli_auth_credentials_store` accepts. */
export const credentialsStoreKinds: ReadonlyArray<CredentialsStoreKind> = CredentialsStoreKind.literals

/** config.toml's `forced_login_method`: the only way of signing in codex allows (codex-protocol.md §9). */
export const ForcedLoginMethod = Schema.Literal("chatgpt", "api")

/** The only way of signing in codex allows: `chatgpt` or `api`. */
export type ForcedLoginMethod = typeof ForcedLoginMethod.Type

/** Forced workspace ids as codex reads them: each trimmed, empty ones dropped. */
export const forcedWorkspaceIds = (ids: ReadonlyArray<string>): ReadonlyArray<string> =>
  ids.map((id) => id.trim()).filter((id) => id !== "")

const got = (issue: ParseResult.ParseIssue): string =>
  typeof issue.actual === "string" ? `"${issue.actual}"` : `a value of type ${typeof issue.actual}`

// `override`: a message of our own for the whole value, rather than one per union member
const WorkspaceIds = Schema.Union(Schema.String, Schema.Array(Schema.String)).annotations({
  message: () => ({ message: "forced_chatgpt_workspace_id must be a string or a list of strings", override: true })
})

const StoreKind = CredentialsStoreKind.annotations({
  message: (issue) => ({
    message: `cli_auth_credentials_store must be one of ${credentialsStoreKinds.join(", ")} (got ${got(issue)})`,
    override: true
  })
})

const LoginMethod = ForcedLoginMethod.annotations({
  message: (issue) => ({
    message: `forced_login_method must be ${ForcedLoginMethod.literals.map((m) => `"${m}"`).join(" or ")} (got ${got(issue)})`,
    override: true
  })
})

/**
 * The parts of `$CODEX_HOME/config.toml` that devicecode reads, from the parsed TOML table (other keys are codex's and
 * ignored). Each wrong value fails with a message naming the key and what it accepts.
 */
export const CodexConfig = Schema.Struct({
  /**
   * `forced_chatgpt_workspace_id`: the workspaces a ChatGPT sign-in may belong to, a string or (codex 0.169 and later)
   * a list of strings, each trimmed, empty ones dropped; empty allows any.
   */
  forcedWorkspaceIds: Schema.optionalToRequired(WorkspaceIds, Schema.Array(Schema.String), {
    decode: (ids) => forcedWorkspaceIds(Option.match(ids, { onNone: () => [], onSome: (id) => [id].flat() })),
    encode: (ids) => (ids.length === 0 ? Option.none() : Option.some(ids))
  }).pipe(Schema.fromKey("forced_chatgpt_workspace_id")),
  /** `cli_auth_credentials_store`: where credentials live. */
  credentialsStore: Schema.optionalWith(StoreKind, { exact: true, as: "Option" }).pipe(
    Schema.fromKey("cli_auth_credentials_store")
  ),
  /** `forced_login_method`: the only way of signing in codex allows, `chatgpt` or `api` (codex-protocol.md §9). */
  forcedLoginMethod: Schema.optionalWith(LoginMethod, { exact: true, as: "Option" }).pipe(
    Schema.fromKey("forced_login_method")
  )
})

/** The parts of `$CODEX_HOME/config.toml` that devicecode reads. */
export interface CodexConfig extends Schema.Schema.Type<typeof CodexConfig> {}

/** The configuration when config.toml is missing. */
export const defaultCodexConfig: CodexConfig = {
  forcedWorkspaceIds: [],
  credentialsStore: Option.none(),
  forcedLoginMethod: Option.none()
}

// made on first use: without a config.toml nothing is decoded
let decoder: ((toml: unknown) => Either.Either<CodexConfig, ParseResult.ParseError>) | undefined
const decode = (toml: unknown) => (decoder ??= Schema.decodeUnknownEither(CodexConfig))(toml)

/** Decodes a parsed config.toml table; the error is the message of the first key that is wrong. */
export const decodeCodexConfig = (toml: unknown): Either.Either<CodexConfig, string> =>
  Either.mapLeft(decode(toml), (error) => ParseResult.ArrayFormatter.formatErrorSync(error)[0]?.message ?? "invalid")
