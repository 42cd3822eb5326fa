/**
 * devicecode: OAuth 2.0 device-code login for Effect apps, in codex's ChatGPT dialect and RFC 8628, with fresh access
 * tokens kept where codex reads them. Start with `DeviceCodeAuth.layerNode()`.
 */

// ── The one-call layer ───────────────────────────────────────────────────────────────────────────────────────────────

/** `DeviceCodeAuth.layer(options)` / `layerNode(options)`: session, authenticated client, store and login in one. */
export * as DeviceCodeAuth from "./layers/DeviceCodeAuth.js"

// ── Domain: wire data, stored records and errors (no I/O) ────────────────────────────────────────────────────────────

/** codex's constants and wire schemas (issuer, client id, endpoints, error bodies). */
export * from "./domain/CodexWire.js"
/** A device code and how it is polled. */
export * from "./domain/DeviceCode.js"
/** The tagged errors: DeviceAuthError, WorkspaceError, StoreError, ConfigError, NotLoggedIn, RefreshError, … */
export * from "./domain/Errors.js"
/** The id_token claims devicecode reads. */
export * from "./domain/IdTokenClaims.js"
/** Progress events of a login, for any renderer. */
export * from "./domain/LoginEvent.js"
/** The S256 PKCE challenge of a verifier. */
export * from "./domain/Pkce.js"
/** Profile names and the login target a profile gets. */
export * from "./domain/Profile.js"
/** auth.json as codex writes it. */
export * from "./domain/StoredAuth.js"
/** Tokens an issuer handed out. */
export * from "./domain/TokenSet.js"
/** Server-chosen text made safe for a terminal: control characters and bidi overrides shown escaped. */
export * as Sanitize from "./domain/Sanitize.js"
/** The rules an issuer URL must meet (https unless loopback; no userinfo, query or fragment). */
export * from "./domain/IssuerUrl.js"
/** An API key read from input: trimmed, and refused with inner whitespace or control characters. */
export * from "./domain/ApiKey.js"
/** The `--json` output of the CLI, as schemas. */
export * as CliEvents from "./domain/CliEvents.js"

// ── Services: the Tags and the login stages written against them ─────────────────────────────────────────────────────

/** Fresh access tokens for an app. */
export * from "./services/AuthSession.js"
/** Load, save and delete a stored sign-in. */
export * from "./services/CredentialStore.js"
/** A login at one issuer: device code, poll, completion, and the record's shape. */
export * from "./services/LoginFlow.js"
/** One sign-in's issuer: refresh, revoke, refresh-failure policy, request headers. */
export * from "./services/IssuerClient.js"
/** The issuer of a stored sign-in. */
export * from "./services/IssuerResolver.js"
/** The OS keyring, one entry at a time. */
export * from "./services/Keyring.js"
/** PKCE pairs: made, and checked before an exchange. */
export * from "./services/Pkce.js"
/** Which workspace and which login method (`forced_login_method`) may sign in. */
export * from "./services/WorkspacePolicy.js"
/** The whole device-code login. */
export * from "./services/login.js"
/** Stage 1: ask for a device code. */
export * from "./services/requestDeviceCode.js"
/** Stage 2: poll until approved. */
export * from "./services/pollForAuthorization.js"
/** Stage 3: exchange the approval for tokens. */
export * from "./services/exchangeCodeForTokens.js"
/** Stage 4: the workspace check. */
export * from "./services/ensureWorkspaceAllowed.js"
/** Stage 5: store the sign-in. */
export * from "./services/persistTokens.js"
/** Every wait and retry policy, as named Schedules. */
export * as Schedules from "./services/schedules.js"

// ── Layers: one namespace per implementation ────────────────────────────────────────────────────────────────────────

/** The Codex (ChatGPT) dialect over an HttpClient. */
export * as CodexIssuer from "./layers/CodexIssuer.js"
/** The RFC 8628 dialect over an HttpClient, found by discovery. */
export * as OidcIssuer from "./layers/OidcIssuer.js"
/** The issuer of each stored sign-in, for refresh and logout. */
export * as IssuerResolverLive from "./layers/IssuerResolver.js"
/** auth.json in CODEX_HOME, written as codex writes it. */
export * as FileStore from "./layers/FileStore.js"
/** The OS keyring entry codex uses. */
export * as KeyringStore from "./layers/KeyringStore.js"
/** The keyring, else auth.json. */
export * as AutoStore from "./layers/AutoStore.js"
/** A store in memory (`ephemeral`). */
export * as MemoryStore from "./layers/MemoryStore.js"
/** The OS keyring through @napi-rs/keyring (Secret Service, Keychain, Credential Manager). */
export * as KeyringLive from "./layers/KeyringLive.js"
/** PKCE from node:crypto. */
export * as PkceLive from "./layers/PkceLive.js"
/** The workspace rule of config.toml. */
export * as WorkspacePolicyLive from "./layers/WorkspacePolicyLive.js"
/** The AuthSession over a store and an issuer resolver. */
export * as AuthSessionLive from "./layers/AuthSession.js"
/** An HttpClient that signs each request in through AuthSession. */
export * as AuthenticatedHttpClient from "./layers/AuthenticatedHttpClient.js"
/** CODEX_HOME and config.toml, read as codex reads them. */
export * as CodexConfig from "./layers/Config.js"

/** The package version. */
export { VERSION } from "./version.js"
