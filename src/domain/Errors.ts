import * as Data from "effect/Data"
import * as Duration from "effect/Duration"

/** Which wire call of a login an error comes from; `authorize` is a browser login's redirect back. */
export type DeviceAuthStep = "discovery" | "usercode" | "poll" | "authorize" | "exchange" | "refresh" | "revoke"

const stepLabel: Record<DeviceAuthStep, string> = {
  discovery: "discovery",
  usercode: "device code request",
  poll: "device code poll",
  authorize: "browser sign-in",
  exchange: "device code exchange",
  refresh: "token refresh",
  revoke: "token revocation"
}

/**
 * A device login failed at the issuer. `Misconfigured` means the issuer or client cannot do a device login at all (no
 * device endpoint in discovery, an issuer mismatch, an unknown client, a TLS certificate or protocol that no retry
 * will get past). `Unavailable` is the only transient reason: the network failed, the request timed out, or the
 * server answered 429/502/503/504 (a 429 reads as rate limited); `retryAfter` carries its
 * Retry-After. `Malformed` includes an answer over 1 MiB or nested too deeply. `detail` never carries a token.
 */
export class DeviceAuthError extends Data.TaggedError("DeviceAuthError")<{
  readonly reason:
    | "NotEnabled"
    | "Misconfigured"
    | "Rejected"
    | "Denied"
    | "Expired"
    | "TimedOut"
    | "Unavailable"
    | "Malformed"
  readonly issuer: string
  readonly step: DeviceAuthStep
  readonly status?: number
  /** The server's error code (`error.code`, `error` or `code`), e.g. `refresh_token_reused`. */
  readonly code?: string
  readonly detail?: string
  readonly retryAfter?: Duration.Duration
}> {
  override get message(): string {
    const detail = this.detail ? `: ${this.detail}` : ""
    switch (this.reason) {
      case "NotEnabled":
        return `device code login is not enabled for ${this.issuer}; ask its operator to enable it, or sign in another way`
      case "Misconfigured":
        return `${this.issuer} cannot run this ${this.step === "authorize" ? "browser" : "device"} login${detail}`
      case "Rejected":
        return this.step === "exchange"
          ? `device code exchange failed: token endpoint returned status ${this.status ?? "?"}${detail}`
          : this.status === undefined
            ? `${stepLabel[this.step]} failed at ${this.issuer}${detail}`
            : `${stepLabel[this.step]} failed: ${this.issuer} returned status ${this.status}${detail}`
      case "Denied":
        return `the sign-in was denied at ${this.issuer}${detail}`
      case "Expired":
        return `the device code expired before it was approved; run login again`
      case "TimedOut":
        return this.step === "authorize"
          ? `timed out${this.detail ? ` after ${this.detail}` : ""} waiting for the browser to come back; run login --browser again`
          : `timed out${this.detail ? ` after ${this.detail}` : ""} waiting for the device code to be approved; run login again`
      case "Unavailable":
        return this.status === 429
          ? `${stepLabel[this.step]} was rate limited by ${this.issuer} (${this.detail ?? "status 429"})`
          : `${stepLabel[this.step]} could not reach ${this.issuer}${detail}`
      case "Malformed":
        return `${stepLabel[this.step]} failed: ${this.issuer} sent a response devicecode cannot read${detail}`
    }
  }
}

/** The signed-in workspace is not the one config.toml forces (codex-protocol.md §6). */
export class WorkspaceError extends Data.TaggedError("WorkspaceError")<{
  readonly reason: "MissingClaim" | "Mismatch"
  /** The workspace ids config.toml allows. */
  readonly expected: ReadonlyArray<string>
}> {
  override get message(): string {
    return this.reason === "MissingClaim"
      ? "Login is restricted to a specific workspace, but the token did not include a chatgpt_account_id claim."
      : // codex's words (0.169, 0.171), the ids joined as codex joins them
        `Login is restricted to workspace id(s) ${this.expected.join(", ")}.`
  }
}

/** config.toml's `forced_login_method` does not allow this way of signing in (codex-protocol.md §9). */
export class LoginMethodError extends Data.TaggedError("LoginMethodError")<{
  readonly reason: "ChatgptDisabled" | "ApiKeyDisabled"
}> {
  override get message(): string {
    return this.reason === "ChatgptDisabled"
      ? "ChatGPT login is disabled. Use API key login instead."
      : "API key login is disabled. Use ChatGPT login instead."
  }
}

/**
 * The credential store could not be read or written. Nothing half-written is left behind, and an unreadable record is
 * kept aside, never deleted. `afterApproval` is set when a login was approved but its tokens could not be stored: it
 * says whether they were revoked at the issuer.
 */
export class StoreError extends Data.TaggedError("StoreError")<{
  readonly reason: "Corrupt" | "Io" | "Locked" | "Keyring"
  readonly path: string
  readonly detail: string
  readonly afterApproval?: "Revoked" | "NotRevoked"
  /** Where the record that could not be saved was kept instead (a recovery record, see `CredentialStore.keep`). */
  readonly keptIn?: string
}> {
  override get message(): string {
    const problem = this.problem()
    if (this.keptIn !== undefined) {
      return `${problem}. The new sign-in is kept in ${this.keptIn}, which the next devicecode command moves into place`
    }
    if (this.afterApproval === undefined) return problem
    return this.afterApproval === "Revoked"
      ? `${problem}. The sign-in was approved but could not be saved, so the tokens issued for it were revoked; run login again once this is fixed`
      : `${problem}. The sign-in was approved but could not be saved, and the tokens issued for it could not be revoked (they expire on their own); run login again once this is fixed`
  }

  private problem(): string {
    switch (this.reason) {
      case "Corrupt":
        return `${this.path} is not a valid auth file (${this.detail}); fix it, or run "devicecode login" to sign in again (the unreadable one is then kept aside, not deleted)`
      case "Io":
        return `cannot access ${this.path}: ${this.detail}`
      case "Locked":
        return `${this.path} stayed locked by another process (${this.detail}); try again`
      case "Keyring":
        return `the OS keyring cannot be used for ${this.path} (${this.detail}); unlock or start a Secret Service (gnome-keyring, KWallet), or use --store file`
    }
  }
}

/** CODEX_HOME, config.toml or the options an app passed are unusable. */
export class ConfigError extends Data.TaggedError("ConfigError")<{
  readonly reason: "CodexHome" | "ConfigFile" | "Options"
  readonly path: string
  readonly detail: string
}> {
  override get message(): string {
    switch (this.reason) {
      case "CodexHome":
        return `CODEX_HOME is set to ${this.path}, which ${this.detail}; create it or unset CODEX_HOME`
      case "ConfigFile":
        return `${this.path}: ${this.detail}`
      case "Options":
        return `${this.path}: ${this.detail}`
    }
  }
}

/** No sign-in is stored. */
export class NotLoggedIn extends Data.TaggedError("NotLoggedIn")<{}> {
  override get message(): string {
    return "Not logged in"
  }
}

/**
 * No usable API key: stdin is a terminal, nothing but white space came, or the key (its ends trimmed) holds white
 * space or control characters. `source` says where the key was read: `stdin` (`login --with-api-key`, with codex's
 * words and a hint to pipe it in) or `app` (a key an app handed to `loginWithApiKey`). The message never repeats the key.
 */
export class ApiKeyInputError extends Data.TaggedError("ApiKeyInputError")<{
  readonly reason: "Terminal" | "Empty" | "Whitespace" | "Control"
  readonly source: "stdin" | "app"
}> {
  override get message(): string {
    const pipeIt = "pipe in the key alone, e.g. printenv OPENAI_API_KEY | devicecode login --with-api-key"
    const stdin = this.source === "stdin"
    switch (this.reason) {
      case "Terminal":
        return "--with-api-key reads the key from stdin; pipe it in, e.g. printenv OPENAI_API_KEY | devicecode login --with-api-key"
      case "Empty":
        // codex's own words (0.169, 0.171)
        return stdin ? "No API key provided via stdin." : "No API key provided: the key is empty."
      case "Whitespace":
        return stdin
          ? `the API key on stdin contains white space (a space, a tab or a second line); ${pipeIt}`
          : "the API key contains white space (a space, a tab or a second line)"
      case "Control":
        return stdin
          ? `the API key on stdin contains control characters; ${pipeIt}`
          : "the API key contains control characters"
    }
  }
}

/**
 * A refresh token the issuer will never accept again (codex-protocol.md §8): only signing in again helps. The
 * session keeps failing with it until the stored sign-in changes.
 */
export class RefreshError extends Data.TaggedError("RefreshError")<{
  readonly reason: "Expired" | "Reused" | "Invalidated" | "Other"
  readonly issuer: string
  readonly code?: string
}> {
  override get message(): string {
    switch (this.reason) {
      case "Expired":
        return "Your access token could not be refreshed because your refresh token has expired. Please log out and sign in again."
      case "Reused":
        // codex's first sentence; a codex or devicecode that refreshed first may not have saved its answer yet
        return "Your access token could not be refreshed because your refresh token was already used. Another program (codex, or another devicecode) may have refreshed it and not saved the new one yet: try again in a few seconds. If it keeps failing, log out and sign in again."
      case "Invalidated":
        return "Your access token could not be refreshed because your refresh token was revoked. Please log out and sign in again."
      case "Other":
        return "Your access token could not be refreshed. Please log out and sign in again."
    }
  }
}

/** The issuer did not answer a revocation within its bound. */
export class RevokeTimeoutError extends Data.TaggedError("RevokeTimeoutError")<{
  readonly bound: Duration.Duration
}> {
  override get message(): string {
    return `no answer within ${Duration.toSeconds(this.bound)} s`
  }
}
