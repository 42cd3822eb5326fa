#!/usr/bin/env node
// Runs the CLI bundle (dist/bin/devicecode.cjs, made by `npm run build`) through a V8 code cache, so that a start does
// not compile the bundle again: `status` and `token` are called from prompts and scripts many times a minute.
//
// The cache is an optimisation only. It can never change what a command prints or make it fail: every step is
// checked, any error (a read-only or missing cache directory, a corrupt or foreign file) means running without it.
// - One file per command (`status`, `login`, `--help`, ...): each compiles different functions.
// - Named after the bundle's SHA-256 (its first line), Node's version and the CPU architecture: V8 itself checks only
//   a cached script's length, so a rebuilt bundle of the same length would otherwise run stale code.
// - Our own SHA-1 of the payload is checked before V8 sees it: V8 does not checksum a code cache in release builds,
//   and a corrupt one aborts the process.
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
const MAGIC = "DCC1"
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

const sha1 = (bytes) => require("node:crypto").createHash("sha1").update(bytes).digest()

/** The cached data in `file`, if it is ours and whole; its mtime set to now, so that eviction keeps it longer. */
const readCache = (file) => {
  try {
    const bytes = fs.readFileSync(file)
    if (bytes.length <= 24 || bytes.toString("latin1", 0, 4) !== MAGIC) return undefined
    const data = bytes.subarray(24)
    if (!sha1(data).equals(bytes.subarray(4, 24))) return undefined
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

const writeCache = (target, data) => {
  let temp
  try {
    fs.mkdirSync(target.directory, { recursive: true, mode: 0o700 })
    temp = `${target.file}.${process.pid}.tmp`
    fs.writeFileSync(temp, Buffer.concat([Buffer.from(MAGIC, "latin1"), sha1(data), data]), { mode: 0o600 })
    fs.renameSync(temp, target.file)
    temp = undefined
    evict(target)
  } catch {
    // a read-only or full disk: the next start compiles again
  } finally {
    if (temp) fs.rmSync(temp, { force: true })
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

const target = cacheFile()
const cachedData = target && readCache(target.file)
const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData })
if (target && (cachedData === undefined || script.cachedDataRejected)) {
  // on exit: the functions the command ran are compiled by then, and go into the cache too
  process.once("exit", () => writeCache(target, script.createCachedData()))
}
const bundleModule = new Module(bundle, module)
bundleModule.filename = bundle
const bundleRequire = Module.createRequire(bundle)
script
  .runInThisContext()
  .call(bundleModule.exports, bundleModule.exports, bundleRequire, bundleModule, bundle, path.dirname(bundle))
Error.stackTraceLimit = stackTraceLimit
