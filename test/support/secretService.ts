import { assert, describe, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import { spawnSync } from "node:child_process"
import { randomBytes } from "node:crypto"

const PROBE_TIMEOUT_MS = 3_000

/** How one `secret-tool` run ended. */
export interface SecretToolResult {
  readonly status: number | null
  readonly stdout: string
  readonly stderr: string
  readonly error?: Error
}

/** Runs `secret-tool` synchronously (bounded), with `input` on stdin. */
export const runSecretTool = (args: ReadonlyArray<string>, input = ""): SecretToolResult => {
  const result = spawnSync("secret-tool", args, { input, encoding: "utf8", timeout: PROBE_TIMEOUT_MS })
  return {
    status: result.status,
    stdout: result.stdout ?? "",
    stderr: result.stderr ?? "",
    ...(result.error ? { error: result.error } : {})
  }
}

const lastLine = (text: string): string => text.trim().split("\n").at(-1)?.trim() ?? ""

const describeFailure = (step: string, result: SecretToolResult): string =>
  result.error
    ? `secret-tool ${step} failed: ${result.error.message}`
    : `secret-tool ${step} exited ${result.status}${lastLine(result.stderr) ? `: ${lastLine(result.stderr)}` : ""}`

const probe = (): { readonly available: boolean; readonly reason: string } => {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) {
    return { available: false, reason: "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)" }
  }
  const attributes = ["service", "devicecode-test-probe", "username", `probe-${process.pid}`]
  const secret = randomBytes(8).toString("hex")
  const stored = runSecretTool(["store", "--label=devicecode test probe", ...attributes], secret)
  if ((stored.error as NodeJS.ErrnoException | undefined)?.code === "ENOENT") {
    return { available: false, reason: "secret-tool is not installed (Debian: libsecret-tools)" }
  }
  if (stored.error || stored.status !== 0) {
    return { available: false, reason: `no usable Secret Service: ${describeFailure("store", stored)}` }
  }
  const found = runSecretTool(["lookup", ...attributes])
  runSecretTool(["clear", ...attributes])
  if (found.error || found.status !== 0 || found.stdout !== secret) {
    return { available: false, reason: `no usable Secret Service: ${describeFailure("lookup", found)}` }
  }
  return { available: true, reason: "a Secret Service answered a store/lookup/clear probe" }
}

/** Whether a real, unlocked Secret Service is reachable from this process (probed once, at import). */
export const secretService: { readonly available: boolean; readonly reason: string } = probe()

/**
 * `describe` when the Secret Service is available. Otherwise a skipped `describe` whose name gives the reason, or,
 * with `DEVICECODE_REQUIRE_KEYRING=1` (CI), a `describe` with one failing test.
 */
export const describeWithSecretService = (name: string, body: () => void): void => {
  if (secretService.available) {
    describe(name, body)
  } else if (process.env.DEVICECODE_REQUIRE_KEYRING === "1") {
    describe(name, () => {
      it("needs a Secret Service (DEVICECODE_REQUIRE_KEYRING=1)", () => {
        assert.fail(`DEVICECODE_REQUIRE_KEYRING=1 but ${secretService.reason}`)
      })
    })
  } else {
    // test/support/skipReporter.ts ends every run with the reasons found in such titles
    const reason = `${secretService.reason}; .ci/run runs them inside dbus-run-session with gnome-keyring`
    describe.skip(`${name} — skipped: ${reason}`, body)
  }
}

const codexAttributes = (account: string) => ["service", "Codex Auth", "username", account]

/** codex's keyring entries, read and written with `secret-tool`, independently of @napi-rs/keyring. */
export const secretTool = {
  /** The secret of `"Codex Auth"` / `account`, if any. */
  lookup: (account: string): Effect.Effect<Option.Option<string>> =>
    Effect.sync(() => {
      const result = runSecretTool(["lookup", ...codexAttributes(account)])
      if (result.error) throw result.error
      return result.status === 0 ? Option.some(result.stdout) : Option.none()
    }),
  /** Stores `secret` as `"Codex Auth"` / `account`. */
  store: (account: string, secret: string): Effect.Effect<void> =>
    Effect.sync(() => {
      const result = runSecretTool(["store", "--label=devicecode test", ...codexAttributes(account)], secret)
      if (result.error || result.status !== 0) throw new Error(describeFailure("store", result))
    }),
  /** Removes `"Codex Auth"` / `account` (no error when there is none). */
  clear: (account: string): Effect.Effect<void> =>
    Effect.sync(() => void runSecretTool(["clear", ...codexAttributes(account)]))
}
