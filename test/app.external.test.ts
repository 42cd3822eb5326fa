// An app outside the repository (test/fixtures/app: ESM, strict, no DOM lib, skipLibCheck false, NodeNext) built with
// tsc against the built package as npm would install it, then run: through DeviceCodeAuth.layerNode() and the public
// programs only, it logs in against a LocalIssuer, reads the sign-in, logs out (revoking), stores an API key and logs
// out again.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { tempDir } from "./support/tmp.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const fixture = join(root, "test/fixtures/app")

/** What the app's node_modules holds: devicecode itself and what the app and devicecode import. */
const installed = ["effect", "@effect/platform", "@effect/platform-node", "@types/node"]

/** A command's exit code and output. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(command, args, { cwd, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill())
  })

describe("an app outside the repository, on the built package", () => {
  it.scopedLive(
    "logs in, describes, logs out revoking, stores an API key and logs out, with public exports only",
    () =>
      Effect.gen(function* () {
        assert.isTrue(existsSync(join(root, "dist/index.d.ts")), "dist/ not found: run `npm run build` first")
        const app = yield* tempDir
        cpSync(fixture, app, { recursive: true })
        const links: Record<string, string> = { devicecode: root }
        for (const name of installed) links[name] = join(root, "node_modules", name)
        for (const [name, target] of Object.entries(links)) {
          mkdirSync(dirname(join(app, "node_modules", name)), { recursive: true })
          symlinkSync(target, join(app, "node_modules", name), "dir")
        }

        const built = yield* run(join(root, "node_modules/.bin/tsc"), ["-p", app, "--pretty", "false"], app)
        assert.strictEqual(built.code, 0, `tsc failed:\n${built.stdout}${built.stderr}`)
        assert.deepStrictEqual(readdirSync(join(app, "out")), ["app.js"])

        const codexHome = join(app, "codex-home")
        mkdirSync(codexHome)
        const ran = yield* run(process.execPath, [join(app, "out/app.js"), codexHome], app)
        assert.strictEqual(ran.code, 0, `the app failed:\n${ran.stderr}`)
        const steps = ran.stdout
          .trim()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>)
        const location = `file ${join(codexHome, "auth.json")}`
        assert.deepStrictEqual(steps, [
          { step: "login", approved: true, email: "dev@example.com" },
          { step: "token", valid: true, expires: true },
          { step: "describe", location, method: "chatgpt", email: "dev@example.com", key: null },
          { step: "logout", removed: true, revoked: true },
          { step: "issuer", revocations: 1 },
          { step: "apikey", location },
          { step: "describe", location, method: "apikey", email: null, key: "sk-proj-***12345" },
          { step: "logout", removed: true, revoked: false },
          { step: "describe", location, method: null, email: null, key: null }
        ])
        assert.notInclude(ran.stdout + ran.stderr, "external-app", "no secret printed")
      }),
    60_000
  )
})
