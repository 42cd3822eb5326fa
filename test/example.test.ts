import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("..", import.meta.url))

const runExample = Effect.async<{ code: number | null; stdout: string; stderr: string }>((resume) => {
  const child = spawn(process.execPath, ["scripts/example.mjs", "whoami"], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  child.once("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
})

describe("examples/whoami.ts (the documented `npm run example`)", () => {
  it.live("signs in, refreshes the born-expired token once, and calls the protected endpoint", () =>
    Effect.gen(function* () {
      const result = yield* runExample
      assert.strictEqual(result.code, 0, result.stderr)
      assert.match(result.stdout, /2\. Signed in as dev@example\.com/)
      assert.match(result.stdout, /4\. GET \/v1\/me -> 200: account acct_local_0001/)
      assert.match(result.stdout, /5\. Again -> 200; refresh requests so far: 1 /)
    })
  )
})
