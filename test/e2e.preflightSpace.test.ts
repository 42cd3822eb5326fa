import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn, spawnSync } from "node:child_process"
import { tmpdir } from "node:os"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { binPath } from "./support/cli.js"
import { tempDir } from "./support/tmp.js"

// A full disk is played by a 64 KiB tmpfs, mounted in a user and mount namespace of its own (unshare -rm): no root
// needed where unprivileged user namespaces are allowed; skipped where they are not.
const canMount =
  spawnSync("unshare", ["-rm", "sh", "-c", `mount -t tmpfs -o size=64k tmpfs '${tmpdir()}'`], { stdio: "ignore" })
    .status === 0

/** Runs `devicecode ARGS` with CODEX_HOME on a fresh 64 KiB tmpfs of which only `freeKiB` are left free. */
const onAlmostFullDisk = (home: string, freeKiB: number, args: ReadonlyArray<string>) =>
  Effect.async<{ readonly code: number | null; readonly stderr: string }>((resume) => {
    const quoted = args.map((arg) => `'${arg}'`).join(" ")
    const script =
      `mount -t tmpfs -o size=64k tmpfs '${home}' && ` +
      `dd if=/dev/zero of='${home}/filler' bs=1k count=${64 - freeKiB} 2>/dev/null && ` +
      `exec '${process.execPath}' '${binPath}' ${quoted}`
    const child = spawn("unshare", ["-rm", "sh", "-c", script], {
      env: { PATH: process.env.PATH ?? "", HOME: home, CODEX_HOME: home, DEVICECODE_CODE_CACHE: "off" },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stderr = ""
    child.stdout.resume()
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
    child.once("close", (code) => resume(Effect.succeed({ code, stderr })))
    return Effect.sync(() => child.kill("SIGKILL"))
  }).pipe(
    Effect.timeoutFail({ duration: "20 seconds", onTimeout: () => "login did not end within 20 s" }),
    Effect.orDie
  )

describe.skipIf(!canMount)("devicecode login on a disk too full for a record (tmpfs, child processes)", () => {
  it.scopedLive("4 KiB free: the preflight fails with the disk full, before any code is asked for", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "0 millis" })
      const home = yield* tempDir
      const result = yield* onAlmostFullDisk(home, 4, ["login", "--issuer", issuer.url])
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(result.stderr, `cannot access ${home}: cannot hold the sign-in: the disk is full (ENOSPC)`)
      assert.notInclude(result.stderr, "FileSystem")
      assert.strictEqual((yield* issuer.stats).usercode, 0)
    })
  )

  it.scopedLive("32 KiB free: the same login passes the preflight and is saved", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second", autoApproveAfter: "0 millis" })
      const home = yield* tempDir
      const result = yield* onAlmostFullDisk(home, 32, ["login", "--issuer", issuer.url])
      assert.strictEqual(result.code, 0, result.stderr)
      assert.strictEqual((yield* issuer.stats).usercode, 1)
    })
  )
})
