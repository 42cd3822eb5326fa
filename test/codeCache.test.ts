// The V8 code cache of bin/devicecode.cjs is an optimisation only: with no cache, a warm one, a read-only cache
// directory, a corrupt cache file or a rebuilt bundle of the same length, a command prints the same bytes and ends
// with the same exit code. Real child processes of the built CLI.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { createHash } from "node:crypto"
import { chmodSync, copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"
import { stamp } from "../scripts/cliBundle.mjs"
import { binPath, runCli } from "./support/cli.js"
import { freshChatgptAuthJson } from "./support/records.js"
import { tempDir } from "./support/tmp.js"

interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/**
 * Runs a copy of the CLI to the end, awaited (a loop of synchronous runs would hold the test worker's event loop for a
 * minute on a loaded machine, and vitest fails on its own messages after 60 s).
 */
const run = (bin: string, args: ReadonlyArray<string>, env: Record<string, string>): Effect.Effect<Run> =>
  Effect.map(runCli(args, { bin, env }), (result) => {
    // status counts down to the token's expiry: two runs a moment apart may round to another minute
    const steady = (text: string) => text.replace(/\(in \d+ minutes\)/g, "(in N minutes)")
    return { code: result.code, stdout: steady(result.stdout), stderr: steady(result.stderr) }
  })

const cacheFiles = (cacheHome: string): ReadonlyArray<string> => {
  try {
    return readdirSync(join(cacheHome, "devicecode")).filter((name) => name.endsWith(".v8"))
  } catch {
    return []
  }
}

/** Whether a cache file is whole: our magic, then the SHA-1 of the V8 data after it. */
const isWhole = (file: string): boolean => {
  const bytes = readFileSync(file)
  const sha1 = createHash("sha1").update(bytes.subarray(24)).digest()
  return bytes.toString("latin1", 0, 4) === "DCC1" && sha1.equals(bytes.subarray(4, 24))
}

/** A CODEX_HOME with a ChatGPT sign-in whose access token is fresh: `token` prints it without a request. */
const signedInHome = Effect.gen(function* () {
  const home = yield* tempDir
  writeFileSync(join(home, "auth.json"), freshChatgptAuthJson("rt_cache_test"))
  return home
})

const commands: ReadonlyArray<ReadonlyArray<string>> = [
  ["status"],
  ["status", "--json"],
  ["token"],
  ["--help"],
  ["login", "--help"],
  ["--version"],
  ["status", "--bogus"],
  ["logout", "--json"]
]

describe("the code cache of bin/devicecode.cjs", () => {
  // one test per command: each is 5 to 10 CLI runs, a few seconds even on a loaded machine
  for (const args of commands) {
    it.scoped(
      `${args.join(" ")}: no cache, a cold and a warm cache, an unusable cache directory: the same bytes and exit code`,
      () =>
        Effect.gen(function* () {
          const signedIn = yield* signedInHome
          const empty = yield* tempDir
          const cacheHome = yield* tempDir
          const notADirectory = join(yield* tempDir, "file")
          writeFileSync(notADirectory, "")
          const readOnly = yield* tempDir
          mkdirSync(join(readOnly, "devicecode"))
          chmodSync(join(readOnly, "devicecode"), 0o555)
          for (const home of [signedIn, empty]) {
            if (args[0] === "logout" && home === signedIn) continue
            const env = { CODEX_HOME: home }
            const label = `${args.join(" ")} (${home === signedIn ? "signed in" : "signed out"})`
            const plain = yield* run(binPath, args, { ...env, DEVICECODE_CODE_CACHE: "off" })
            const cold = yield* run(binPath, args, { ...env, XDG_CACHE_HOME: cacheHome })
            const files = cacheFiles(cacheHome)
            assert.isAbove(files.length, 0, `${label}: a cache file is written`)
            const warm = yield* run(binPath, args, { ...env, XDG_CACHE_HOME: cacheHome })
            // a path below a file cannot be made, not even by root; a 0555 directory stops everyone else
            const underFile = yield* run(binPath, args, { ...env, XDG_CACHE_HOME: notADirectory })
            const unwritable = yield* run(binPath, args, { ...env, XDG_CACHE_HOME: readOnly })
            for (const [kind, other] of Object.entries({ cold, warm, underFile, unwritable })) {
              assert.deepStrictEqual(other, plain, `${label}, ${kind}`)
            }
          }
          assert.deepStrictEqual(cacheFiles(join(notADirectory, "x")), [])
        })
    )
  }

  it.scoped("a corrupt, truncated or foreign cache file is never handed to V8, and is written again whole", () =>
    Effect.gen(function* () {
      const home = yield* signedInHome
      const cacheHome = yield* tempDir
      const env = { CODEX_HOME: home, XDG_CACHE_HOME: cacheHome }
      const expected = yield* run(binPath, ["status"], { CODEX_HOME: home, DEVICECODE_CODE_CACHE: "off" })
      assert.strictEqual(expected.code, 0)
      yield* run(binPath, ["status"], env)
      const [name] = cacheFiles(cacheHome)
      assert.isDefined(name)
      const file = join(cacheHome, "devicecode", name!)
      const whole = readFileSync(file)
      const flipped = Buffer.from(whole)
      // bytes in the middle of V8's data, past its own header: V8 does not notice this, and would abort the process
      for (const offset of [whole.length >> 1, (whole.length >> 1) + 4099, whole.length - 64]) flipped[offset]! ^= 0xff
      const damaged = {
        flipped,
        truncated: whole.subarray(0, whole.length >> 1),
        foreign: Buffer.concat([Buffer.from("DCC1"), Buffer.alloc(20), whole.subarray(24)]),
        empty: Buffer.alloc(0),
        garbage: Buffer.from("not a code cache at all")
      }
      for (const [kind, bytes] of Object.entries(damaged)) {
        writeFileSync(file, bytes)
        assert.deepStrictEqual(yield* run(binPath, ["status"], env), expected, kind)
        assert.isTrue(isWhole(file), `${kind}: the cache is written again, whole`)
      }
    })
  )

  it.scoped("a rebuilt bundle of the same length runs its own code, not the cached code of the last one", () =>
    Effect.gen(function* () {
      // a package of our own: bin/devicecode.cjs finds the bundle at ../dist/bin/devicecode.cjs
      const pkg = yield* tempDir
      mkdirSync(join(pkg, "bin"))
      mkdirSync(join(pkg, "dist", "bin"), { recursive: true })
      const bin = join(pkg, "bin", "devicecode.cjs")
      const bundle = join(pkg, "dist", "bin", "devicecode.cjs")
      copyFileSync(binPath, bin)
      const built = readFileSync(join(binPath, "..", "..", "dist", "bin", "devicecode.cjs"), "latin1")
      writeFileSync(bundle, built, "latin1")
      const cacheHome = yield* tempDir
      const env = { XDG_CACHE_HOME: cacheHome }
      assert.strictEqual((yield* run(bin, ["--version"], env)).stdout.trim(), "0.1.0")
      assert.strictEqual((yield* run(bin, ["--version"], env)).stdout.trim(), "0.1.0")
      assert.strictEqual(cacheFiles(cacheHome).length, 1)

      const body = built.slice(built.indexOf("\n") + 1)
      assert.include(body, '"0.1.0"')
      const rebuilt = stamp(body.replaceAll('"0.1.0"', '"9.8.7"'))
      assert.strictEqual(rebuilt.length, built.length)
      writeFileSync(bundle, rebuilt, "latin1")
      assert.strictEqual((yield* run(bin, ["--version"], env)).stdout.trim(), "9.8.7")
      assert.strictEqual((yield* run(bin, ["--version"], env)).stdout.trim(), "9.8.7")
      assert.strictEqual(cacheFiles(cacheHome).length, 2, "one cache file per bundle")
    })
  )
})
