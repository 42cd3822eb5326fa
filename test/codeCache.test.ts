// The V8 code cache of bin/devicecode.cjs is an optimisation only: with no cache, a warm one, a read-only cache
// directory, a corrupt cache file, a rebuilt bundle of the same length or a full cache directory, a command prints the
// same bytes and ends with the same exit code; and the directory stays within 5 MB. Real child processes of the built
// CLI.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import { join } from "node:path"
import { crc32 } from "node:zlib"
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

/** What the cache directory takes on disk, as `du` counts it: each entry's blocks (its size where that is more). */
const cacheBytes = (cacheHome: string): number => {
  const dir = join(cacheHome, "devicecode")
  return readdirSync(dir)
    .map((name) => statSync(join(dir, name)))
    .reduce((sum, stat) => sum + Math.max(stat.size, stat.blocks * 512), 0)
}

/** The cache directory's bound (bin/devicecode.cjs's BUDGET). */
const BUDGET = 5_000_000

/** The command a cache file is of: its name after the bundle, Node and CPU (`status`, `login-help`, ...). */
const commandOf = (name: string): string => name.replace(/^.*-x64-|^.*-arm64-/, "").replace(/\.v8$/, "")

/** A cache file: our magic, the CRC-32 of V8's data (little-endian), V8's data. */
const HEADER = 8

/** The bytes of a cache file holding `data` as V8's data, with its CRC-32. */
const cacheFileOf = (data: Uint8Array): Buffer => {
  const header = Buffer.alloc(HEADER)
  header.write("DCC2", 0, "latin1")
  header.writeUInt32LE(crc32(data), 4)
  return Buffer.concat([header, data])
}

/** Whether a cache file is whole: our magic, then the CRC-32 of the V8 data after it. */
const isWhole = (file: string): boolean => {
  const bytes = readFileSync(file)
  return bytes.toString("latin1", 0, 4) === "DCC2" && crc32(bytes.subarray(HEADER)) === bytes.readUInt32LE(4)
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

  it.scoped("a corrupt, truncated or foreign cache file is never run by V8, and is written again whole", () =>
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
      assert.isTrue(isWhole(file))
      const v8Data = whole.subarray(HEADER)
      const middle = v8Data.length >> 1
      // bytes in the middle of V8's data, past its own header: unchecked, V8 crashes (SIGSEGV) or aborts on these
      const flipped = Buffer.from(v8Data)
      for (const offset of [24, middle, middle + 4099, v8Data.length - 64]) flipped[offset]! ^= 0xff
      // +1 and -1 65,521 bytes apart leave V8's Adler-32 as it was: V8 took this and the bundle threw on every start
      const adlerBlind = Buffer.from(v8Data)
      let at = middle
      while (adlerBlind[at]! === 0xff || adlerBlind[at + 65_521]! === 0) at++
      adlerBlind[at]! += 1
      adlerBlind[at + 65_521]! -= 1
      const damaged = {
        flipped: Buffer.concat([whole.subarray(0, HEADER), flipped]),
        // our CRC-32 made to match: only V8's checksum stands between these bytes and a crash
        "flipped, our CRC-32 made to match": cacheFileOf(flipped),
        // only our CRC-32 catches this one
        "Adler-32's blind spot": Buffer.concat([whole.subarray(0, HEADER), adlerBlind]),
        truncated: whole.subarray(0, whole.length >> 1),
        "a byte more": Buffer.concat([whole, Buffer.alloc(1)]),
        foreign: Buffer.concat([Buffer.from("DCC2"), Buffer.alloc(4), v8Data]),
        "of the SHA-1 format": Buffer.concat([Buffer.from("DCC1"), Buffer.alloc(20), v8Data]),
        "V8's data without V8's checksum": cacheFileOf(
          Buffer.concat([v8Data.subarray(0, 20), Buffer.alloc(4), v8Data.subarray(24)])
        ),
        empty: Buffer.alloc(0),
        garbage: Buffer.from("not a code cache at all")
      }
      for (const [kind, bytes] of Object.entries(damaged)) {
        writeFileSync(file, bytes)
        assert.deepStrictEqual(yield* run(binPath, ["status"], env), expected, kind)
        assert.isTrue(isWhole(file), `${kind}: the cache is written again, whole`)
        assert.notDeepEqual(readFileSync(file), bytes, `${kind}: the cache is written again`)
      }
      // and a whole file is taken as it is
      writeFileSync(file, whole)
      assert.deepStrictEqual(yield* run(binPath, ["status"], env), expected)
      assert.deepStrictEqual(readFileSync(file), whole, "a whole cache file is not written again")
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
  it.scoped(
    "however many command lines run, the cache directory stays within 5 MB and every run prints the same bytes",
    () =>
      Effect.gen(function* () {
        const home = yield* signedInHome
        const cacheHome = yield* tempDir
        const env = { CODEX_HOME: home }
        // every command and its help (16 cache files' worth, ~21 MB), value options, usage errors
        const lines: ReadonlyArray<ReadonlyArray<string>> = [
          ["status"],
          ["token"],
          ["--help"],
          ["login", "--help"],
          ["status", "--help"],
          ["token", "--help"],
          ["logout", "--help"],
          ["demo", "--help"],
          ["issuer", "--help"],
          ["completion", "--help"],
          ["--version"],
          ["completion", "bash"],
          ["status", "--json"],
          ["status", "--profile", "work"],
          ["login", "--dialect", "foo"],
          ["issuer", "--port", "abc"],
          ["logout", "--bogus"],
          ["status"],
          ["token", "--json"]
        ]
        for (const args of lines) {
          const plain = yield* run(binPath, args, { ...env, DEVICECODE_CODE_CACHE: "off" })
          const cached = yield* run(binPath, args, { ...env, XDG_CACHE_HOME: cacheHome })
          assert.deepStrictEqual(cached, plain, args.join(" "))
          assert.isAtMost(cacheBytes(cacheHome), BUDGET, `after ${args.join(" ")}`)
        }
        // the last commands stay warm: running them again writes nothing (a write is a new file, renamed over the old)
        const files = cacheFiles(cacheHome)
        assert.includeMembers(files.map(commandOf), ["token", "status"])
        const before = files.map((name) => [name, statSync(join(cacheHome, "devicecode", name)).ino])
        for (const args of [["status"], ["token", "--json"]]) {
          const plain = yield* run(binPath, args, { ...env, DEVICECODE_CODE_CACHE: "off" })
          assert.deepStrictEqual(yield* run(binPath, args, { ...env, XDG_CACHE_HOME: cacheHome }), plain)
        }
        assert.deepStrictEqual(
          cacheFiles(cacheHome).map((name) => [name, statSync(join(cacheHome, "devicecode", name)).ino]),
          before
        )
      })
  )

  it.scoped(
    "a warm start marks its file used; a write removes the files used longest ago, of any bundle, and dead temp files",
    () =>
      Effect.gen(function* () {
        const home = yield* signedInHome
        const cacheHome = yield* tempDir
        const dir = join(cacheHome, "devicecode")
        const env = { CODEX_HOME: home, XDG_CACHE_HOME: cacheHome }
        const fileOf = (command: string) =>
          join(dir, cacheFiles(cacheHome).find((name) => commandOf(name) === command)!)
        for (const args of [["status"], ["token"], ["--help"]]) yield* run(binPath, args, env)
        assert.sameMembers(cacheFiles(cacheHome).map(commandOf), ["status", "token", "devicecode-help"])
        const hoursAgo = (hours: number) => new Date(Date.now() - hours * 3_600_000)
        utimesSync(fileOf("status"), hoursAgo(3), hoursAgo(3))
        utimesSync(fileOf("token"), hoursAgo(2), hoursAgo(2))
        utimesSync(fileOf("devicecode-help"), hoursAgo(1), hoursAgo(1))
        // status, used now, is no longer the one used longest ago
        const plain = yield* run(binPath, ["status"], { CODEX_HOME: home, DEVICECODE_CODE_CACHE: "off" })
        assert.deepStrictEqual(yield* run(binPath, ["status"], env), plain)
        assert.isAbove(statSync(fileOf("status")).mtimeMs, Date.now() - 60_000, "a warm start touches its file")
        // used longest ago first; status was used last
        const byAge = [fileOf("token"), fileOf("devicecode-help"), fileOf("status")]
        // what another bundle or Node version left (sized so that the next write must evict), a run killed mid-write
        // long ago, and what is not the cache's
        const foreign = join(dir, `${"0".repeat(32)}-node18.0.0-x64-status.v8`)
        writeFileSync(foreign, Buffer.alloc(Math.max(1_000_000, BUDGET - cacheBytes(cacheHome))))
        utimesSync(foreign, hoursAgo(4), hoursAgo(4))
        const deadTemp = join(dir, "x-status.v8.12345.tmp")
        writeFileSync(deadTemp, Buffer.alloc(100_000))
        utimesSync(deadTemp, hoursAgo(1), hoursAgo(1))
        writeFileSync(join(dir, "notes.txt"), "not ours")
        mkdirSync(join(dir, "a-directory.v8"))
        byAge.unshift(foreign)
        const onDisk = new Map(byAge.map((file) => [file, statSync(file).blocks * 512]))
        yield* run(binPath, ["--version"], env)
        const evicted = byAge.filter((file) => !existsSync(file))
        assert.deepStrictEqual(evicted, byAge.slice(0, evicted.length), "the files used longest ago go first")
        assert.include(evicted, foreign)
        assert.notInclude(evicted, byAge[byAge.length - 1])
        // and no more of them than the budget needs: with the last one evicted back, the cache would be over it
        assert.isAbove(cacheBytes(cacheHome) + onDisk.get(evicted[evicted.length - 1]!)!, BUDGET)
        assert.includeMembers(cacheFiles(cacheHome).map(commandOf), ["status", "devicecode", "a-directory"])
        assert.isFalse(existsSync(deadTemp))
        assert.isTrue(existsSync(join(dir, "notes.txt")))
        assert.isAtMost(cacheBytes(cacheHome), BUDGET)
      })
  )
})
