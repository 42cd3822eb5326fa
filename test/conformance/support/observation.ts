import type { KnownValues } from "./mask.js"

/** A request the LocalIssuer saw (its `LocalIssuerRequest`, as far as the comparison reads it). */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly search: string
  readonly status: number | string
  readonly headers: ReadonlyArray<readonly [string, string]>
  readonly body?: string | undefined
}

/** How a tool's command ended and what it printed (raw; masked when compared). */
export interface StepOutput {
  /** The step's name in the scenario, the same on both sides: `login`, `status`, `logout`, `refresh`. */
  readonly label: string
  /** The exit code, the signal that ended it, or `killed` when the harness stopped it on purpose (codex exec). */
  readonly exit: number | string
  readonly stdout: string
  readonly stderr: string
  /**
   * Which of codex's lines are outcome lines: `all` (every line but its PATH-aliases warning and banner), or
   * `auth log` (codex exec: only the lines its sign-in code logs, `codex_login::…`; the rest is its agent's).
   */
  readonly outcome: "all" | "auth log"
}

/** One entry of a CODEX_HOME, found by walking it. */
export interface FileEntry {
  /** Relative to CODEX_HOME, `/`-separated. */
  readonly path: string
  readonly type: "file" | "directory" | "symlink" | "other"
  /** Permission bits. */
  readonly mode: number
  readonly size: number
  /** The text of auth.json and config.toml; other files are compared by type and mode, lock files also by size. */
  readonly content?: string | undefined
}

/** One Secret Service item, as `secret-tool search --all` shows it (the schema is shown, not compared). */
export interface KeyringItem {
  readonly label: string
  readonly schema: string
  /** Sorted by name. */
  readonly attributes: ReadonlyArray<readonly [string, string]>
  readonly secret: string
}

/** What a CODEX_HOME (and the keyring, in the keyring scenario) held at one point of a scenario. */
export interface Snapshot {
  /** `after login`, `after logout`, … — the same on both sides. */
  readonly label: string
  readonly files: ReadonlyArray<FileEntry>
  readonly keyring?: ReadonlyArray<KeyringItem> | undefined
}

/** Everything one tool did in one scenario. */
export interface Observation {
  /** The LocalIssuer's URL (the same on both sides: they share it). */
  readonly issuer: string
  /** This side's CODEX_HOME, keyring account and API key, masked by name in what is compared. */
  readonly known: KnownValues
  /** The requests the issuer saw during the compared steps, in order. */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** codex exec: its own refresh is its first token request; later ones are made for its API client, not compared. */
  readonly throughFirstRefresh?: boolean
  readonly steps: ReadonlyArray<StepOutput>
  readonly snapshots: ReadonlyArray<Snapshot>
}

/**
 * A tool reading what the other wrote: `codex login status` on devicecode's CODEX_HOME against `codex login status`
 * on codex's own, and the same for devicecode. Both must print the same lines and exit with the same code.
 */
export interface CrossRead {
  readonly tool: "codex" | "devicecode"
  readonly own: StepOutput
  readonly ownKnown: KnownValues
  readonly other: StepOutput
  readonly otherKnown: KnownValues
}

/** A field whose codex and devicecode values differ. */
export interface Difference {
  /** The field, as allowed differences name it: `request 4 POST /oauth/token header accept`. */
  readonly field: string
  /** What codex had there (masked), or undefined for nothing. */
  readonly codex: string | undefined
  /** What devicecode had there (masked), or undefined for nothing. */
  readonly devicecode: string | undefined
  /** One line naming the field and both values. */
  readonly message: string
}

/** The comparison of two observations. */
export interface Comparison {
  readonly fields: number
  readonly differences: ReadonlyArray<Difference>
}
