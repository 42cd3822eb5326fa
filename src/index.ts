/**
 * devicecode: OAuth 2.0 device-code login for Effect apps, in codex's ChatGPT dialect and RFC 8628, with fresh access
 * tokens kept where codex reads them. Start with `DeviceCodeAuth.layerNode()`. Every name is a namespace, as in
 * Effect's own packages: `AuthSession.AuthSession` is the Tag, `AuthSession.layer` its layer.
 */

// ── The one-call layer ───────────────────────────────────────────────────────────────────────────────────────────────

/** `DeviceCodeAuth.layer(options)` / `layerNode(options)`: session, authenticated client, store and programs in one. */
export * as DeviceCodeAuth from "./layers/DeviceCodeAuth.js"

// ── Programs: every use case, an Effect over the services (the CLI's commands call these) ─────────────────────────────

/** `Login.login({ onEvent })`: the device-code login, and its stages (`requestDeviceCode`, `pollForAuthorization`, …). */
export * as Login from "./services/login.js"
/**
 * `BrowserLogin.browserLogin({ onEvent, port })`: the browser login (authorization code + PKCE on loopback), as
 * `codex login`; needs `DeviceCodeAuth.layerBrowserNode` (PKCE and the callback server) besides login's services.
 */
export * as BrowserLogin from "./services/browserLogin.js"
/** `LoginWithApiKey.loginWithApiKey({ key })`: store an API key, as `codex login --with-api-key`. */
export * as LoginWithApiKey from "./services/loginWithApiKey.js"
/** `Logout.logout()`: revoke the stored sign-in at its issuer, then remove it. */
export * as Logout from "./services/logout.js"
/** `DescribeSignIn.describeSignIn`: who is signed in and where, as data (what `devicecode status` prints). */
export * as DescribeSignIn from "./services/describeSignIn.js"
/** `LoginRestrictions.enforceLoginRestrictions()`: codex's start-up check of the stored sign-in against config.toml. */
export * as LoginRestrictions from "./services/enforceLoginRestrictions.js"
/** `Revocation.revokeTokens(client, tokens)`: the one revocation path of logout and of a login that could not save. */
export * as Revocation from "./services/revokeTokens.js"

// ── Services: a Tag each, with its layers where it has one implementation ────────────────────────────────────────────

/** Fresh access tokens for an app: `AuthSession.AuthSession`, `AuthSession.layer()`. */
export * as AuthSession from "./layers/AuthSession.js"
/** An HttpClient that signs each request in through AuthSession. */
export * as AuthenticatedHttpClient from "./layers/AuthenticatedHttpClient.js"
/** Load, save and delete a stored sign-in: `CredentialStore.CredentialStore`. */
export * as CredentialStore from "./services/CredentialStore.js"
/** A login at one issuer: device code, poll, completion, and the stored record's shape. */
export * as LoginFlow from "./services/LoginFlow.js"
/** One sign-in's issuer: refresh, revoke, refresh-failure policy, request headers. */
export * as IssuerClient from "./services/IssuerClient.js"
/** The issuer client of each stored sign-in: `IssuerResolver.layer` (by origin), `IssuerResolver.fixed`. */
export * as IssuerResolver from "./layers/IssuerResolver.js"
/** A browser login's loopback redirect, served for the login's scope: `CallbackServer.CallbackServer`. */
export * as CallbackServer from "./services/CallbackServer.js"
/** PKCE pairs, checked before an exchange. */
export * as Pkce from "./services/Pkce.js"
/** Which workspace and which login method (`forced_login_method`) may sign in. */
export * as WorkspacePolicy from "./services/WorkspacePolicy.js"
/** The OS keyring through @napi-rs/keyring (Secret Service, Keychain, Credential Manager). */
export * as Keyring from "./layers/Keyring.js"
/** Every wait and retry policy, as named Schedules and durations. */
export * as Schedules from "./services/schedules.js"

// ── Implementations ──────────────────────────────────────────────────────────────────────────────────────────────────

/** The Codex (ChatGPT) dialect over an HttpClient: `layer` (LoginFlow), `layerClient` (IssuerClient). */
export * as CodexIssuer from "./layers/CodexIssuer.js"
/** The RFC 8628 dialect over an HttpClient, found by discovery. */
export * as OidcIssuer from "./layers/OidcIssuer.js"
/** auth.json in CODEX_HOME, written as codex writes it. */
export * as FileStore from "./layers/FileStore.js"
/** The OS keyring entry codex uses. */
export * as KeyringStore from "./layers/KeyringStore.js"
/** The keyring, else auth.json. */
export * as AutoStore from "./layers/AutoStore.js"
/** A store in memory (`ephemeral`). */
export * as MemoryStore from "./layers/MemoryStore.js"
/** CODEX_HOME and config.toml, read as codex reads them. */
export * as CodexConfig from "./layers/Config.js"

// ── Domain: data and errors (no I/O) ─────────────────────────────────────────────────────────────────────────────────

/** The tagged errors: DeviceAuthError, WorkspaceError, StoreError, ConfigError, NotLoggedIn, RefreshError, … */
export * as Errors from "./domain/Errors.js"
/** auth.json as codex writes it: `StoredAuth.StoredAuth`, `StoredAuth.StoredAuthFromJson`. */
export * as StoredAuth from "./domain/StoredAuth.js"
/** A stored sign-in summarised: method, dialect, issuer, claims, account id, expiry. */
export * as SignInSummary from "./domain/SignInSummary.js"
/** Tokens an issuer handed out, and what a refresh returns. */
export * as TokenSet from "./domain/TokenSet.js"
/** A device code and how it is polled. */
export * as DeviceCode from "./domain/DeviceCode.js"
/** The id_token claims devicecode reads. */
export * as IdTokenClaims from "./domain/IdTokenClaims.js"
/** Progress events of a login, for any renderer. */
export * as LoginEvent from "./domain/LoginEvent.js"
/** The two dialects, `codex` and `rfc8628`. */
export * as Dialect from "./domain/Dialect.js"
/** codex's constants and wire schemas (issuer, client id, endpoints, error bodies). */
export * as CodexWire from "./domain/CodexWire.js"
/** The `--json` output of the CLI, as schemas. */
export * as CliEvents from "./domain/CliEvents.js"

/** The package version. */
export { VERSION } from "./version.js"
