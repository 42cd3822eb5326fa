import { assert } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/**
 * The test run's own temp folder (test/support/globalSetup.ts), removed when the run ends whatever its tests leave;
 * the system's temp directory when the helpers run without vitest's globalSetup.
 */
export const testTmp: string = process.env.DEVICECODE_TEST_TMP ?? tmpdir()

/** A fresh directory in the run's temp folder, removed with the scope. */
export const tempDir: Effect.Effect<string, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => mkdtempSync(join(testTmp, "devicecode-test-"))),
  (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
)

/** Every secret value in an auth.json's text: tokens and API key. */
export const secretsOf = (authJson: string): ReadonlyArray<string> => {
  const record = JSON.parse(authJson) as { OPENAI_API_KEY?: string | null; tokens?: Record<string, unknown> | null }
  const tokens = record.tokens ?? {}
  return [record.OPENAI_API_KEY, tokens.id_token, tokens.access_token, tokens.refresh_token].filter(
    (value): value is string => typeof value === "string" && value.length > 0
  )
}

/** Fails if any secret (or its JWT signature alone) appears in any of the texts. */
export const assertNoSecrets = (texts: ReadonlyArray<string>, secrets: ReadonlyArray<string>): void => {
  assert.isAbove(secrets.length, 0, "there are secrets to look for")
  for (const secret of secrets) {
    const pieces = [secret, ...secret.split(".").filter((piece) => piece.length >= 16)]
    for (const text of texts) for (const piece of pieces) assert.notInclude(text, piece, "a secret was printed")
  }
}

/**
 * Asserts that a login left no sign-in in `home`: nothing but the two empty lock files every login creates when it
 * starts, as codex's does (`auth.lock` and `auth.json.lock`; `auth.<profile>.lock` and `auth.<profile>.json.lock` for
 * a named profile), and `others` (such as config.toml).
 */
export const assertNothingStored = (home: string, profile?: string, others: ReadonlyArray<string> = []): void => {
  const base = profile === undefined ? "auth" : `auth.${profile}`
  const locks = [`${base}.json.lock`, `${base}.lock`]
  assert.deepStrictEqual(readdirSync(home).sort(), [...locks, ...others].sort())
  for (const lock of locks) assert.strictEqual(statSync(join(home, lock)).size, 0, lock)
}
