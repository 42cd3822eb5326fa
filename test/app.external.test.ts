// An app outside the repository (test/fixtures/app: ESM, strict, no DOM lib, skipLibCheck false, NodeNext), with the
// packed package (`npm pack`) installed in it as npm would install the tarball (test/support/pack.ts): only what the
// tarball's package.json asks for is there.
// - The app, built with tsc against the installed package and run, goes through DeviceCodeAuth.layerNode() and the
//   public programs only: it logs in against a LocalIssuer, reads the sign-in, logs out (revoking), stores an API key
//   and logs out again.
// - The CLI runs from the app as `npx devicecode`: --help, and a whole demo login with its QR code.
import { afterAll, assert, beforeAll, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs"
import { join } from "node:path"
import { installPacked, pack, root } from "./support/pack.js"
import { testTmp } from "./support/tmp.js"

const fixture = join(root, "test/fixtures/app")

/** A command's exit code and output. */
const run = (command: string, args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) =>
  Effect.async<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resume) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("close", (code) => resume(Effect.succeed({ code, stdout, stderr })))
    return Effect.sync(() => void child.kill())
  })

describe("an app outside the repository, with the packed package installed", () => {
  let dir = ""
  let app = ""
  beforeAll(() => {
    assert.isTrue(existsSync(join(root, "dist/index.d.ts")), "dist/ not found: run `npm run build` first")
    dir = mkdtempSync(join(testTmp, "devicecode-test-app-"))
    app = join(dir, "app")
    cpSync(fixture, app, { recursive: true })
    installPacked(pack(join(dir, "pack")), app)
  }, 60_000)
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it.live(
    "logs in, describes, logs out revoking, stores an API key and logs out, with public exports only",
    () =>
      Effect.gen(function* () {
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

  it.live(
    "runs the CLI as `npx devicecode`: --help, and a demo login with its QR code",
    () =>
      Effect.gen(function* () {
        const installed = join(app, "node_modules/devicecode")
        assert.strictEqual(statSync(join(installed, "bin/devicecode.cjs")).mode & 0o111, 0o111, "bin is executable")
        // the packages only the CLI bundle uses are in it, not installed beside it
        for (const name of ["@effect/cli", "open", "qrcode"]) {
          assert.isFalse(existsSync(join(app, "node_modules", name)), `${name} is installed`)
        }
        // its code cache in the app, not the user's ~/.cache
        const env = { XDG_CACHE_HOME: join(app, "cache"), NO_COLOR: "1" }
        const npx = (args: ReadonlyArray<string>) => run("npx", ["--no-install", "devicecode", ...args], app, env)

        const help = yield* npx(["--help"])
        assert.strictEqual(help.code, 0, help.stderr)
        assert.match(help.stdout, /^devicecode \d+\.\d+\.\d+/)
        for (const command of ["login", "status", "token", "logout", "demo"]) assert.include(help.stdout, command)

        const demo = yield* npx(["demo", "--qr"])
        assert.strictEqual(demo.code, 0, `demo failed:\n${demo.stdout}\n${demo.stderr}`)
        assert.match(demo.stdout, /^Successfully logged in as dev@example\.com \(plus\)$/m)
        assert.match(demo.stdout + demo.stderr, /[▀▄█]{10}/, "a QR code (qrcode, bundled)")
      }),
    60_000
  )
})
