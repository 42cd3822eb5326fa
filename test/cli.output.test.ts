import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { closeSync, openSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { binPath } from "./support/cli.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { tempDir } from "./support/tmp.js"

/**
 * A result the CLI cannot write is a failure: `token` with stdout on a full device, a closed descriptor or a pipe whose
 * reader is gone ends with one error line on stderr and exit 1, not exit 0 and an empty output.
 */

interface Ended {
  readonly code: number | null
  readonly stderr: string
}

/** A signed-in CODEX_HOME whose access token is valid until 2100: `token` prints it without a request. */
const signedIn = Effect.tap(tempDir, (home) =>
  Effect.sync(() => writeFileSync(join(home, "auth.json"), freshChatgptAuthJson("rt_output_test")))
)

/**
 * Runs `sh -c script node bin args…` (`exec "$0" "$@"` runs the CLI) with the given stdout; the shell waits for a line on fd 3 before it starts the
 * CLI, so that `ready` (closing a pipe's reader, say) is done before the CLI can write.
 */
const runThroughShell = (
  script: string,
  args: ReadonlyArray<string>,
  home: string,
  stdout: "pipe" | "ignore" | number,
  ready: (child: ReturnType<typeof spawn>) => void = () => {}
) =>
  Effect.async<Ended>((resume) => {
    const child = spawn("sh", ["-c", `read -r _ <&3; ${script}`, process.execPath, binPath, ...args], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/root", CODEX_HOME: home },
      stdio: ["ignore", stdout, "pipe", "pipe"]
    })
    let stderr = ""
    child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("close", (code) => resume(Effect.succeed({ code, stderr })))
    ready(child)
    const go = child.stdio[3] as NodeJS.WritableStream
    go.end("go\n")
    return Effect.sync(() => void child.kill("SIGKILL"))
  }).pipe(Effect.timeout("20 seconds"), Effect.orDie)

const assertFailedWith = (result: Ended, why: string) => {
  assert.strictEqual(result.code, 1, result.stderr)
  assert.strictEqual(result.stderr, `Error: could not write the output to stdout (${why}); it is lost\n`)
}

describe("a result that cannot be written", () => {
  it.scopedLive("token >/dev/full: one error line, exit 1", () =>
    Effect.gen(function* () {
      const home = yield* signedIn
      const full = openSync("/dev/full", "w")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(full)))
      assertFailedWith(yield* runThroughShell(`exec "$0" "$@"`, ["token"], home, full), "no space left on the device")
      assertFailedWith(
        yield* runThroughShell(`exec "$0" "$@"`, ["token", "--json"], home, full),
        "no space left on the device"
      )
    })
  )

  it.scopedLive("token >&- (stdout closed): one error line, exit 1; >/dev/null is a choice and exits 0", () =>
    Effect.gen(function* () {
      const home = yield* signedIn
      assertFailedWith(yield* runThroughShell(`exec "$0" "$@" >&-`, ["token"], home, "ignore"), "stdout is closed")
      const toNull = yield* runThroughShell(`exec "$0" "$@" >/dev/null`, ["token"], home, "ignore")
      assert.deepStrictEqual(toNull, { code: 0, stderr: "" })
    })
  )

  it.scopedLive("token into a pipe whose reader is gone (EPIPE): one error line, exit 1", () =>
    Effect.gen(function* () {
      const home = yield* signedIn
      const result = yield* runThroughShell(`exec "$0" "$@"`, ["token"], home, "pipe", (child) =>
        child.stdout!.destroy()
      )
      assertFailedWith(result, "the program reading it has closed the pipe")
    })
  )

  it.scopedLive("status >/dev/full fails the same way; a written result still exits 0", () =>
    Effect.gen(function* () {
      const home = yield* signedIn
      const full = openSync("/dev/full", "w")
      yield* Effect.addFinalizer(() => Effect.sync(() => closeSync(full)))
      assertFailedWith(yield* runThroughShell(`exec "$0" "$@"`, ["status"], home, full), "no space left on the device")
      const written = yield* runThroughShell(`exec "$0" "$@"`, ["token"], home, "pipe")
      assert.deepStrictEqual(written, { code: 0, stderr: "" })
    })
  )
})
