import type { AllowedDifference } from "./support/allowed.js"
import { RefreshError } from "../../src/domain/Errors.js"

// The one list of differences between the real codex and devicecode that the conformance suite accepts. Each entry
// names the field (as the comparator does: `request 4 POST /oauth/token header accept`, `after login: file log`,
// `login line "…"`), the scenarios and codex versions it applies to, what each side has there, and why that is fine.
// The suite fails on any other difference, and on an entry that no run needed any more (stale).
//
// Not listed because they never differ: `host` (compared as "the issuer's host:port") and `content-length` (compared
// as "the body's length"; the body itself is compared byte for byte).

/** The scenarios that make device-login requests and show the device prompt. */
const DEVICE_LOGINS = [
  "device-login",
  "login-denied",
  "login-denied-signed-in",
  "login-expired",
  "workspace-mismatch",
  "keyring"
]

/** The scenarios with requests to the issuer. */
const WITH_REQUESTS = [...DEVICE_LOGINS, "logout", "refresh", "refresh-token-reused", "keyring-logout"]

/** The scenarios whose requests include a refresh or a revoke (where codex sends its User-Agent). */
const REFRESH_OR_REVOKE = ["logout", "refresh", "refresh-token-reused", "keyring-logout"]

/** The scenarios that refresh through `codex exec`. */
const REFRESHES = ["refresh", "refresh-token-reused"]

const hasLine = (text: string, line: string): boolean => text.split("\n").includes(line)

/** devicecode prints codex's words with its own "Error: " in place of codex's `prefix`. */
const sameWordsAfter =
  (prefix: string) =>
  (devicecode: string, codex: string | undefined): boolean =>
    codex !== undefined && codex.startsWith(prefix) && hasLine(devicecode, `Error: ${codex.slice(prefix.length)}`)

// codex's sentence for a spent refresh token, and devicecode's whole message, which starts with it
const reusedSentence = "Your access token could not be refreshed because your refresh token was already used."
const reusedMessage = new RefreshError({ reason: "Reused", issuer: "" }).message

/** Every accepted difference. */
export const allowedDifferences: ReadonlyArray<AllowedDifference> = [
  // --- transport
  {
    id: "header-order",
    scenarios: WITH_REQUESTS,
    versions: "all",
    field: /^request \d+ \S+ \S+ header order$/,
    what: "the order of the headers both send",
    reason:
      "Header order carries no meaning (RFC 9110 §5.3). codex's client (reqwest/hyper) writes host and " +
      "content-length last; Node's writes the headers the caller set, then host."
  },
  {
    id: "connection-close",
    scenarios: WITH_REQUESTS,
    versions: "all",
    field: /^request \d+ \S+ \S+ header connection$/,
    codex: "absent",
    devicecode: /^close$/,
    what: "devicecode sends `connection: close`, codex nothing",
    reason:
      "Transport: Node's HTTP agent without keep-alive announces that it closes the connection after the answer; " +
      "codex keeps a connection pool (HTTP/1.1's default). No server reads the request differently."
  },
  {
    id: "accept-encoding-zstd",
    scenarios: WITH_REQUESTS,
    versions: ["0.171.0"],
    field: /^request \d+ \S+ \S+ header accept-encoding$/,
    codex: /^zstd,gzip$/,
    devicecode: /^gzip$/,
    what: "codex 0.171 accepts zstd and gzip, devicecode only gzip",
    reason:
      "Node 20 has no zstd decoder, so devicecode advertises only what it can decode (codex-protocol.md §8); an " +
      "issuer that compresses then uses gzip."
  },
  {
    id: "accept-encoding-0.169",
    scenarios: WITH_REQUESTS,
    versions: ["0.169.0"],
    field: /^request \d+ \S+ \S+ header accept-encoding$/,
    codex: "absent",
    devicecode: /^gzip$/,
    what: "codex 0.169 sends no accept-encoding, devicecode `gzip`",
    reason:
      "devicecode sends one header set, that of the newest codex it follows (0.171) less zstd; an answer is then " +
      "plain or gzip, and devicecode decodes both."
  },
  // --- who sends it
  {
    id: "user-agent",
    scenarios: REFRESH_OR_REVOKE,
    versions: "all",
    field: /^request \d+ POST \/oauth\/(token|revoke) header user-agent$/,
    codex: /^codex_(cli_rs|exec)\/\d+\.\d+\.\d+ \(/,
    devicecode: /^devicecode\/\d/,
    what: "on refresh and revoke, codex's User-Agent names codex, devicecode's names devicecode",
    reason:
      "A User-Agent names the program that sends it, so an issuer's logs can tell the two apart. codex sends one " +
      "only on refresh and revoke, and so must devicecode (a User-Agent on any other request is a difference)."
  },
  {
    id: "originator-codex-exec",
    scenarios: REFRESHES,
    versions: "all",
    field: /^request \d+ POST \/oauth\/token header originator$/,
    codex: /^codex_exec$/,
    devicecode: /^codex_cli_rs$/,
    what: "the refresh's originator: codex_exec from codex, codex_cli_rs from devicecode",
    reason:
      "codex refreshes on demand only inside `codex exec`, whose originator is codex_exec; its interactive CLI sends " +
      "codex_cli_rs, as devicecode does (the logout scenario compares the revoke, where both send codex_cli_rs)."
  },
  // --- codex exec is an agent, not a sign-in tool
  {
    id: "codex-exec-api-traffic",
    scenarios: REFRESHES,
    versions: "all",
    field: /^non-auth request /,
    codex: /^sent$/,
    devicecode: "absent",
    what: "codex exec calls its API (models, plugins, MCP, the Responses websocket), devicecode token does not",
    reason:
      "The harness refreshes codex through `codex exec`, an agent that goes on to call its API once signed in " +
      "(LocalIssuer answers 404). Only the sign-in requests are compared; these are not."
  },
  {
    id: "codex-exec-killed-after-refresh",
    scenarios: ["refresh"],
    versions: "all",
    field: /^refresh exit code$/,
    codex: /^killed$/,
    devicecode: /^0$/,
    what: "codex exec is stopped by the harness once refreshed; devicecode token exits 0",
    reason:
      "codex exec never ends by itself against LocalIssuer (it retries its API calls), so the harness stops it once " +
      "its refresh is answered and auth.json changed. devicecode's exit code is still checked: it must be 0."
  },
  {
    id: "codex-exec-killed-after-refresh-failure",
    scenarios: ["refresh-token-reused"],
    versions: "all",
    field: /^refresh exit code$/,
    codex: /^killed$/,
    devicecode: /^1$/,
    what: "codex exec is stopped by the harness once its refresh failed; devicecode token exits 1",
    reason:
      "codex exec logs the failed refresh and goes on as an agent (it exits 1 seconds later, after its API calls " +
      "fail), so the harness stops it once the failure is logged. devicecode's exit code is still checked: it must " +
      "be 1."
  },
  {
    id: "refresh-failure-status-log",
    scenarios: ["refresh-token-reused"],
    versions: "all",
    field: /^refresh line "Failed to refresh token status=401 Unauthorized"$/,
    devicecode: (text) => hasLine(text, `Error: ${reusedMessage}`),
    what: "codex exec logs the HTTP status of the failed refresh; devicecode prints only codex's sentence for it",
    reason:
      "That line is a tracing log line of codex exec, not a message; the message (next entry) starts with the same " +
      "sentence in both."
  },
  {
    id: "refresh-failure-message",
    scenarios: ["refresh-token-reused"],
    versions: "all",
    field: /^refresh line "Failed to refresh token: /,
    devicecode: (devicecode, codex) =>
      codex !== undefined &&
      codex.startsWith(`Failed to refresh token: ${reusedSentence} `) &&
      hasLine(devicecode, `Error: ${reusedMessage}`),
    what: 'codex exec logs "Failed to refresh token: <sentence> Please log out…"; devicecode prints "Error: <sentence>" and why a retry may help',
    reason:
      "codex exec reports it as a tracing log line (timestamp, level, module). devicecode prints codex's first " +
      "sentence as its one error line, with the prefix every devicecode error has, and then says that another " +
      "program may have refreshed and not saved yet (try again in a few seconds), and only then to sign in again: " +
      "devicecode cannot tell that case from a real reuse (issue 20)."
  },
  // --- files that belong to codex or to devicecode alone
  {
    id: "codex-app-files",
    scenarios: "all",
    versions: "all",
    field: /: file (?!auth(?:\.|$))(?!config\.toml$)\S+$/,
    codex: /./,
    devicecode: "absent",
    what: "codex's own application files in CODEX_HOME (log/, and after codex exec its sqlite databases, sessions, skills, installation_id, …)",
    reason:
      "They are codex's logs and agent state, not part of the sign-in; devicecode writes none. Every auth.* file " +
      "and config.toml is still compared."
  },
  {
    id: "devicecode-refresh-lock",
    scenarios: ["logout", "logout-signed-out", "refresh", "refresh-token-reused", "keyring-logout"],
    versions: "all",
    field: /: file auth\.json\.refresh\.lock$/,
    codex: "absent",
    devicecode: /^file 0600, 0 bytes$/,
    what: "devicecode's own lock file, auth.json.refresh.lock (0600, empty)",
    reason:
      "devicecode holds it across a refresh or revoke request so that its processes send one at a time (DESIGN.md, " +
      "Stores; src/layers/CodexLock.ts); codex never opens it, and holds its own locks only around writes."
  },
  // --- what a person reads
  {
    id: "device-prompt-heading",
    scenarios: DEVICE_LOGINS,
    versions: "all",
    field: /^login line "Follow these steps to sign in with ChatGPT using device code authorization:"$/,
    devicecode: /^Sign in with your browser:$/m,
    what: "the prompt's first line",
    reason:
      "devicecode words its prompt for any issuer, not only ChatGPT. The URL and the user code are compared as " +
      "lines of their own: both tools show the same verification URL and a user code of the same shape."
  },
  {
    id: "device-prompt-step-1",
    scenarios: DEVICE_LOGINS,
    versions: "all",
    field: /^login line "1\. Open this link in your browser and sign in to your account"$/,
    devicecode: /^1\. Open this page:$/m,
    what: "the prompt's step 1",
    reason: "The same instruction in devicecode's words; the URL under it is compared on its own line."
  },
  {
    id: "device-prompt-step-2",
    scenarios: DEVICE_LOGINS,
    versions: "all",
    field: /^login line "2\. Enter this one-time code \(expires in 15 minutes\)"$/,
    devicecode: /^2\. Enter this one-time code \(valid for 15 minutes\):$/m,
    what: "the prompt's step 2",
    reason: "The same instruction and the same 15 minutes; the user code under it is compared on its own line."
  },
  {
    id: "device-prompt-phishing-warning",
    scenarios: DEVICE_LOGINS,
    versions: "all",
    field:
      /^login line "Continue only if you started this login in Codex\. If a website or another person gave you this code, cancel\."$/,
    devicecode:
      /Device codes are a common phishing target\. Never share this code, and continue only if you\nstarted this login yourself\./,
    what: "the phishing warning",
    reason: "The same warning (codex-protocol.md §2), in devicecode's words and wrapped at 100 columns."
  },
  {
    id: "login-error-prefix",
    scenarios: ["workspace-mismatch"],
    versions: "all",
    field: /^login line "Error logging in: /,
    devicecode: sameWordsAfter("Error logging in: "),
    what: 'codex prints "Error logging in: <message>", devicecode "Error: <message>" with the same message',
    reason: 'Every devicecode error line starts "Error: " (docs/cli.md); the message itself is codex\'s, word for word.'
  },
  {
    id: "login-denied-message",
    scenarios: ["login-denied", "login-denied-signed-in"],
    versions: "all",
    field: /^login line "Error logging in: device auth failed with status 400 Bad Request"$/,
    devicecode: /^Error: the sign-in was denied at http:\/\/127\.0\.0\.1:\d+$/m,
    what: "a denied code: codex prints the poll's HTTP status, devicecode that the sign-in was denied, and where",
    reason:
      "codex reports only the status of the 400 answer; devicecode reads its error code (access_denied) and says " +
      "what happened (docs/protocol.md, Polling). The exit code (1) is the same."
  },
  {
    id: "login-expired-message",
    scenarios: ["login-expired"],
    versions: "all",
    field: /^login line "Error logging in: device auth failed with status 400 Bad Request"$/,
    devicecode: /^Error: the device code expired before it was approved; run login again$/m,
    what: "an expired code: codex prints the poll's HTTP status, devicecode that the code expired and what to do",
    reason:
      "codex reports only the status of the 400 answer; devicecode reads its error code (expired_token) and says " +
      "what to do (docs/protocol.md, Polling). The exit code (1) is the same."
  },
  // --- decisions: where devicecode does not follow codex, on purpose
  {
    id: "failed-login-keeps-sign-in",
    scenarios: ["login-denied-signed-in"],
    versions: "all",
    field: /^after login: file auth\.json$/,
    codex: "absent",
    devicecode: /^file 0600, \d+ bytes$/,
    what: "after a denied login, codex has removed the sign-in it had; devicecode still has it",
    reason:
      "codex deletes the stored sign-in (under both locks) when a device login starts, before anyone approves, so a " +
      "denied, expired or cancelled login signs the person out, without revoking. devicecode replaces the sign-in " +
      "only when the new one is saved (atomically, by rename): a failed login loses nothing (docs/cli.md, login)."
  },
  // --- the keyring binding
  {
    id: "keyring-label",
    scenarios: ["keyring"],
    versions: "all",
    field: /^after login: keyring item \d+ label$/,
    codex: /^cli\|.*@Codex Auth:default \(keyring v[\d.]+\)$/,
    devicecode: /^keyring:cli\|.*@Codex Auth$/,
    what: "the Secret Service item's label: the Rust keyring crate's format, or @napi-rs/keyring's",
    reason:
      "A label is for people browsing the keyring (Seahorse); neither tool reads it: both find the item by its " +
      "service and username attributes (the cross-reads pass both ways). @napi-rs/keyring sets its own label and " +
      "offers no way to choose one."
  },
  {
    id: "keyring-application-attribute",
    scenarios: ["keyring"],
    versions: "all",
    field: /^after login: keyring item \d+ attribute application$/,
    codex: /^rust-keyring$/,
    devicecode: "absent",
    what: "the Secret Service item's `application` attribute: codex's crate sets rust-keyring, devicecode's binding none",
    reason:
      "codex finds an item by service and username without it (the cross-reads pass), and updates an existing item " +
      "in place; @napi-rs/keyring offers no way to add attributes. devicecode sets `target = default` as codex does."
  }
]
