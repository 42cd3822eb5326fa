#!/usr/bin/env node
// Runs the CLI bundle (dist/bin/devicecode.cjs, made by `npm run build`) through a V8 code cache, so that a start does
// not compile the bundle again: `status` and `token` are called from prompts and scripts many times a minute.
//
// The cache is an optimisation only. It can never change what a command prints or make it fail: every step is
// checked, any error (a read-only or missing cache directory, a corrupt or foreign file) means running without it.
// - One file per command (`status`, `login`, `--help`, ...): each compiles different functions.
// - Named after the bundle's SHA-256 (its first line), Node's version and the CPU architecture: V8 itself checks only
//   a cached script's length, so a rebuilt bundle of the same length would otherwise run stale code.
// - Two checksums, as V8 takes a corrupt code cache it has not checked and then crashes (SIGSEGV, a V8 fatal error)
//   or throws on every start: V8's own (Adler-32, which release builds neither write nor check unless
//   --verify-snapshot-checksum is on, so it is switched on just around reading and making the cache), and our
//   CRC-32 of V8's data (zlib's, no node:crypto), checked before V8 sees it. Each catches a corruption the other
//   misses (two bytes changed by +1 and -1 65,521 bytes apart pass Adler-32; four bytes can be chosen to make any
//   change pass CRC-32): test/codeCache.test.ts.
// - Written on exit (temp file + rename) when there was none or V8 rejected it. In $XDG_CACHE_HOME/devicecode, or
//   ~/.cache/devicecode, ~/Library/Caches/devicecode, %LOCALAPPDATA%\devicecode\Cache; DEVICECODE_CODE_CACHE=off
//   turns it off.
// - The directory holds at most 5 MB however many commands ran (a file is 1.2 to 1.7 MB: the 3 used last stay warm).
//   A file's mtime is its last use (a warm start sets it: one utimes call); writing a file removes the files used
//   longest ago, of whatever bundle or Node version, until the rest fit. Only a write reads the directory, and any of
//   its steps may fail (a file another process removed first, a read-only directory): it is then skipped.
"use strict"
const stackTraceLimit = Error.stackTraceLimit
// A stack captured while the bundle loads makes V8 compile it again for source positions.
Error.stackTraceLimit = 0
const fs = require("node:fs")
const path = require("node:path")
const vm = require("node:vm")
const Module = require("node:module")

const bundle = path.join(__dirname, "..", "dist", "bin", "devicecode.cjs")
/** The first 4 bytes of a cache file; then the CRC-32 of V8's data (little-endian), then V8's data. */
const MAGIC = "DCC2"
const HEADER = 8
/** What the cache directory may hold in all, counted as the disk space its files take (as `du` counts). */
const BUDGET = 5_000_000
/** A temp file older than this is of a run killed mid-write (a write takes milliseconds). */
const STALE_TEMP = 60_000
const COMMANDS = new Set(["login", "status", "token", "logout", "demo", "issuer", "completion"])

let source
try {
  source = fs.readFileSync(bundle, "latin1")
} catch (error) {
  process.stderr.write(
    error && error.code === "ENOENT"
      ? "devicecode: the CLI is not built yet; run `npm run build` in the package directory\n"
      : `devicecode: cannot read the CLI bundle ${bundle}: ${error && error.message}\n`
  )
  process.exit(1)
}

// os.homedir() throws where the user has no passwd entry: then there is no cache, never a crash
const homeOfUser = () => {
  try {
    return require("node:os").homedir()
  } catch {
    return undefined
  }
}

const cacheDirectory = () => {
  const env = process.env
  if (env.DEVICECODE_CODE_CACHE === "off") return undefined
  if (env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME)) return path.join(env.XDG_CACHE_HOME, "devicecode")
  if (process.platform === "win32" && env.LOCALAPPDATA) return path.join(env.LOCALAPPDATA, "devicecode", "Cache")
  const home = env.HOME || homeOfUser()
  if (!home) return undefined
  if (process.platform === "darwin") return path.join(home, "Library", "Caches", "devicecode")
  return path.join(home, ".cache", "devicecode")
}

/** The cache file for this bundle, Node, CPU and command, or undefined when there can be none. */
const cacheFile = () => {
  const stamp = /^\/\/devicecode-bundle ([0-9a-f]{64})\n/.exec(source.slice(0, 100))
  const directory = stamp && cacheDirectory()
  if (!directory) return undefined
  const args = process.argv.slice(2)
  const command = COMMANDS.has(args[0]) ? args[0] : "devicecode"
  const help = args.includes("--help") || args.includes("-h") ? "-help" : ""
  const name = `${stamp[1].slice(0, 32)}-node${process.versions.node}-${process.arch}-${command}${help}.v8`
  return { directory, file: path.join(directory, name) }
}

/** zlib's CRC-32 (Node 20.15 and later; the bundle loads node:zlib anyway). */
const crc32 = (bytes) => require("node:zlib").crc32(bytes)

/**
 * Runs `f` with V8 checking a code cache's checksum as it takes one and writing it as it makes one. Only around that:
 * the flag is part of V8's flag hash, and left on, Node rejects the code cache of its own modules (requiring crypto,
 * readline and http took 11.5 ms instead of 3.5 ms). A cache made with the flag on is taken only with it on.
 */
const withV8Checksum = (f) => {
  const v8 = require("node:v8")
  v8.setFlagsFromString("--verify-snapshot-checksum")
  try {
    return f()
  } finally {
    v8.setFlagsFromString("--no-verify-snapshot-checksum")
  }
}

/** The cached data in `file`, if it is ours and whole; its mtime set to now, so that eviction keeps it longer. */
const readCache = (file) => {
  try {
    const bytes = fs.readFileSync(file)
    if (bytes.length <= HEADER || bytes.toString("latin1", 0, 4) !== MAGIC) return undefined
    const data = bytes.subarray(HEADER)
    if (crc32(data) !== bytes.readUInt32LE(4)) return undefined
    // a few microseconds; by path, as Windows sets a file's times only through a handle opened for that
    ignoreErrors(() => fs.utimesSync(file, new Date(), new Date()))
    return data
  } catch {
    return undefined
  }
}

const ignoreErrors = (f) => {
  try {
    f()
  } catch {
    // the cache is an optimisation only
  }
}

const writeCache = (target, script) => {
  let temp
  try {
    const data = withV8Checksum(() => script.createCachedData())
    const header = Buffer.alloc(HEADER)
    header.write(MAGIC, 0, "latin1")
    header.writeUInt32LE(crc32(data), 4)
    fs.mkdirSync(target.directory, { recursive: true, mode: 0o700 })
    temp = `${target.file}.${process.pid}.tmp`
    fs.writeFileSync(temp, Buffer.concat([header, data]), { mode: 0o600 })
    fs.renameSync(temp, target.file)
    temp = undefined
    evict(target)
  } catch {
    // a read-only or full disk: the next start compiles again
  } finally {
    if (temp) ignoreErrors(() => fs.rmSync(temp, { force: true }))
  }
}

/**
 * Keeps the cache directory within BUDGET: the file just written, then the others from the one used last, as long as
 * they fit; from the first that does not, they are removed, and temp files of runs killed mid-write. A file another
 * process removes meanwhile is skipped; one it is reading stays readable until it closes it (POSIX; on Windows that
 * removal fails, and waits for a later write).
 */
const evict = (target) => {
  const now = Date.now()
  const files = []
  for (const name of fs.readdirSync(target.directory)) {
    const temp = name.endsWith(".tmp")
    if (!temp && !name.endsWith(".v8")) continue
    const file = path.join(target.directory, name)
    try {
      const stat = fs.statSync(file)
      // blocks: what the file takes on disk, as du counts it (Windows has none)
      const bytes = Math.max(stat.size, (stat.blocks ?? 0) * 512)
      files.push({
        file,
        bytes,
        used: file === target.file ? Infinity : stat.mtimeMs,
        stale: temp && now - stat.mtimeMs > STALE_TEMP
      })
    } catch {
      // removed by another process since readdir
    }
  }
  files.sort((a, b) => b.used - a.used)
  let total = 0
  let full = false
  for (const { file, bytes, stale } of files) {
    full ||= !stale && total + bytes > BUDGET
    if (stale || full) ignoreErrors(() => fs.rmSync(file, { force: true }))
    else total += bytes
  }
}

const compile = (cachedData) => new vm.Script(Module.wrap(source), { filename: bundle, cachedData })

/** The bundle compiled with the cached data, checked by V8; without it if switching V8's check on fails. */
const compileCached = (cachedData) => {
  try {
    return withV8Checksum(() => compile(cachedData))
  } catch {
    return compile(undefined)
  }
}

const target = cacheFile()
const cachedData = target && readCache(target.file)
const script = cachedData === undefined ? compile(undefined) : compileCached(cachedData)
if (target && (cachedData === undefined || script.cachedDataRejected)) {
  // on exit: the functions the command ran are compiled by then, and go into the cache too
  process.once("exit", () => writeCache(target, script))
}
const bundleModule = new Module(bundle, module)
bundleModule.filename = bundle
const bundleRequire = Module.createRequire(bundle)
script
  .runInThisContext()
  .call(bundleModule.exports, bundleModule.exports, bundleRequire, bundleModule, bundle, path.dirname(bundle))
Error.stackTraceLimit = stackTraceLimit
