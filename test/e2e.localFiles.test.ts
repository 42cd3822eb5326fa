import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect } from "effect"
import { execFileSync } from "node:child_process"
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { type CliResult, runCli } from "./support/cli.js"
import { tempDir } from "./support/tmp.js"
import { rssProbe } from "./support/rss.js"

/**
 * Hostile local files under the built CLI: a FIFO, /dev/zero, 200,000 nested arrays, a link to someone else's file,
 * dangling lock-file links. Each run ends within 5 s with one clean line on stderr (or a warning and a success), no
 * stack, nothing followed, and — measured where a file could make it grow — peak memory under 100 MiB.
 */

const STACK_FRAME = /^\s+at .+:\d+:\d+\)?$/m

/** Runs the CLI in `home`, bounded at 10 s: its result, real time and peak RSS (MiB). */
const run = (args: ReadonlyArray<string>, home: string, probeDir: string) =>
  Effect.gen(function* () {
    const out = join(probeDir, "peak.rss")
    const env = { CODEX_HOME: home, NODE_OPTIONS: `--require ${rssProbe(probeDir)}`, RSS_OUT: out }
    const start = yield* Clock.currentTimeMillis
    const result = yield* runCli(args, { env }).pipe(
      Effect.timeoutFail({
        duration: "10 seconds",
        onTimeout: () => new Error(`${args.join(" ")} did not end in 10 s`)
      }),
      Effect.orDie
    )
    const millis = (yield* Clock.currentTimeMillis) - start
    return { result, millis, rssMiB: Number(readFileSync(out, "utf8")) / 1024 }
  })

/** One clean line on stderr (matching `pattern`), exit `code`, no stack, < 5 s, < 100 MiB. */
const assertClean = (
  label: string,
  run: { readonly result: CliResult; readonly millis: number; readonly rssMiB: number },
  code: number,
  pattern: RegExp
) => {
  const { result, millis, rssMiB } = run
  assert.strictEqual(result.code, code, `${label}: exit code; stderr ${JSON.stringify(result.stderr)}`)
  assert.isFalse(STACK_FRAME.test(result.stderr) || STACK_FRAME.test(result.stdout), `${label}: a stack trace`)
  assert.notInclude(result.stderr, "RangeError", label)
  const lines = result.stderr.split("\n").filter((line) => line !== "")
  assert.strictEqual(lines.length, 1, `${label}: one line on stderr: ${JSON.stringify(result.stderr)}`)
  assert.match(lines[0]!, pattern, label)
  assert.isBelow(millis, 5000, `${label}: took ${millis} ms`)
  assert.isBelow(rssMiB, 100, `${label}: peak RSS ${rssMiB} MiB`)
}

const hostile = {
  fifo: { make: (file: string) => execFileSync("mkfifo", [file]), says: "a FIFO, not a regular file" },
  "/dev/zero": { make: (file: string) => symlinkSync("/dev/zero", file), says: "a device, not a regular file" },
  "200,000 nested arrays": {
    make: (file: string) => writeFileSync(file, "[".repeat(200_000) + "]".repeat(200_000)),
    says: "nested too deeply"
  }
} as const

describe("the CLI over hostile local files", () => {
  for (const [name, { make, says }] of Object.entries(hostile)) {
    it.scopedLive(`auth.json as ${name}: status and token exit 1, logout sets it aside and exits 0`, () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const probeDir = yield* tempDir
        const authPath = join(home, "auth.json")
        make(authPath)
        const unreadable = new RegExp(`^Error: .*auth\\.json is not a valid auth file \\(${says}\\)`)
        assertClean(`${name} status`, yield* run(["status"], home, probeDir), 1, unreadable)
        assertClean(`${name} token`, yield* run(["token"], home, probeDir), 1, unreadable)
        assertClean(
          `${name} logout`,
          yield* run(["logout"], home, probeDir),
          0,
          new RegExp(`^Warning: .*\\(${says}\\).*moved it to .*auth\\.json\\.unreadable-`)
        )
        assert.isFalse(existsSync(authPath))
      })
    )
  }

  it.scopedLive(
    "a CODEX_HOME writable by everyone: one warning line, and status goes on (exit 1, nobody signed in)",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        execFileSync("chmod", ["777", home])
        const status = yield* run(["status"], home, yield* tempDir)
        assertClean("world-writable home", status, 1, /^Warning: .* is writable by every user, .*\(chmod 700\)$/)
        assert.strictEqual(status.result.stdout, "Not logged in. To log in, run: devicecode login\n")
      })
  )

  it.scopedLive("config.toml as a FIFO: status exits 1 at once with one line", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      execFileSync("mkfifo", [join(home, "config.toml")])
      assertClean("config fifo", yield* run(["status"], home, yield* tempDir), 1, /config\.toml: is a FIFO/)
    })
  )

  it.scopedLive("auth.json linked to another file (0644) that does not parse: login keeps the target as it was", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "100 millis" })
      const home = yield* tempDir
      const other = join(yield* tempDir, "notes.txt")
      writeFileSync(other, "not json", { mode: 0o644 })
      execFileSync("chmod", ["644", other])
      symlinkSync(other, join(home, "auth.json"))
      const login = yield* runCli(["login", "--issuer", issuer.url], { env: { CODEX_HOME: home } })
      assert.strictEqual(login.code, 0, login.stderr)
      assert.strictEqual(statSync(other).mode & 0o777, 0o644)
      assert.strictEqual(readFileSync(other, "utf8"), "not json")
      const saved = lstatSync(join(home, "auth.json"))
      assert.isTrue(saved.isFile())
      assert.strictEqual(saved.mode & 0o777, 0o600)
    })
  )

  it.scopedLive("a dangling auth.json.lock link: logout of a sign-in fails naming it, nothing created", () =>
    Effect.gen(function* () {
      const home = yield* tempDir
      const pointee = join(yield* tempDir, "planted")
      writeFileSync(join(home, "auth.json"), JSON.stringify({ auth_mode: "apikey", OPENAI_API_KEY: "sk-test" }))
      symlinkSync(pointee, join(home, "auth.json.lock"))
      assertClean(
        "dangling lock",
        yield* run(["logout"], home, yield* tempDir),
        1,
        /^Error: cannot access .*auth\.json\.lock: is a symbolic link, not a regular file/
      )
      assert.isFalse(existsSync(pointee))
      assert.strictEqual(readlinkSync(join(home, "auth.json.lock")), pointee)
    })
  )
})
