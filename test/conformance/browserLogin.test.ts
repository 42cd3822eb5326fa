import { assert, it } from "@effect/vitest"
import { Effect } from "effect"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { createServer } from "node:net"
import { LocalIssuer } from "../../src/testing/index.js"
import { eventually } from "../support/wait.js"
import { codexVersions, describeWithCodex, ensureCodex } from "./support/codexBinary.js"
import { type Child, makeBrowser, makeHome, type RunContext, start, type Tool } from "./support/run.js"

// The browser login's authorize URL (issue 21): what the real `codex login` prints and what `devicecode login
// --browser` prints (and would open) carry the same parameters in the same order, the random ones compared by shape;
// and the lines around the URL are codex's. Each tool is started with a fresh CODEX_HOME, no display and BROWSER=true
// (no browser opens), its printed URL read from stderr, and killed: the URL is never followed. codex always prints
// https://auth.openai.com (it ignores --experimental_issuer here, so it is not given one); devicecode is pointed at a
// LocalIssuer. Both bind the callback port 1455 (their default), one after the other, so redirect_uri compares byte
// for byte.

// Finds (or installs, once) every codex version before any test is collected: minutes on a first run, then instant.
const codex = ensureCodex()

/** The suite's bound for one (scenario, codex version) run (as test/conformance/codex.test.ts). */
const SCENARIO_TIMEOUT_MS = 90_000
/** How long a tool may take to print its sign-in lines (the suite's step bound). */
const PRINT_TIMEOUT_MS = 40_000
/** How long a killed tool may take to be gone and its port free. */
const GONE_TIMEOUT_MS = 10_000

/** The callback port both tools use by default. */
const PORT = 1455

const CODEX_ORIGIN = "https://auth.openai.com"
const AUTHORIZE_PATH = "/oauth/authorize"

/** The parameters whose values are random each run: compared by shape (43 base64url characters, 32 bytes). */
const RANDOM = new Set(["code_challenge", "state"])
const RANDOM_SHAPE = /^[A-Za-z0-9_-]{43}$/

/** codex's lines around the URL (0.169, 0.171), and devicecode's one change to them. */
const STARTING = `Starting local login server on http://localhost:${PORT}.`
const NAVIGATE = "If your browser did not open, navigate to this URL to authenticate:"
const CODEX_DEVICE_LOGIN = "`codex login --device-auth`"
const DEVICECODE_DEVICE_LOGIN = "`devicecode login`"
const CODEX_HEADLESS = `On a remote or headless machine? Use ${CODEX_DEVICE_LOGIN} instead.`

/** The line that ends the sign-in lines of both tools, and devicecode's one after it (it has no display here). */
const HEADLESS_LINE = /^On a remote or headless machine\? .*\n/m
const NO_BROWSER_LINE = /^No browser was opened: .*\n/m

/** Whether `port` on 127.0.0.1 (where both tools bind it) can be bound right now. */
const portFree = (port: number): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    const server = createServer()
    server.once("error", () => resume(Effect.succeed(false)))
    server.listen({ host: "127.0.0.1", port, exclusive: true }, () => server.close(() => resume(Effect.succeed(true))))
  })

/**
 * The processes of process group `pgid` that still run (zombies left out: a killed codex's BROWSER child is handed to
 * an init that may never reap it). Linux's /proc; elsewhere, whether the group can still be signalled.
 */
const liveInGroup = (pgid: number): ReadonlyArray<number> => {
  if (!existsSync("/proc/self/stat")) {
    try {
      process.kill(-pgid, 0)
      return [pgid]
    } catch {
      return []
    }
  }
  const live: Array<number> = []
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, "utf8")
    } catch {
      continue // gone meanwhile
    }
    // pid (comm) state ppid pgrp …; comm may hold spaces and parentheses, so read after its last ")"
    const [state, , pgrp] = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    if (Number(pgrp) === pgid && state !== "Z" && state !== "X") live.push(Number(name))
  }
  return live
}

/** Kills a tool's whole process group and waits (bounded) until it has ended, nothing of it runs and the port is free. */
const killAndWait = (tool: Tool, child: Child) =>
  Effect.gen(function* () {
    yield* child.kill
    yield* child.exit.pipe(
      Effect.timeoutFail({
        duration: GONE_TIMEOUT_MS,
        onTimeout: () => new Error(`${tool} did not end within ${GONE_TIMEOUT_MS} ms of SIGKILL`)
      }),
      Effect.orDie
    )
    const pgid = child.pid
    if (pgid !== undefined) {
      yield* eventually(
        `nothing of ${tool}'s process group ${pgid} runs`,
        Effect.sync(() => liveInGroup(pgid).length === 0),
        GONE_TIMEOUT_MS
      )
    }
    yield* eventually(`port ${PORT} is free after ${tool}`, portFree(PORT), GONE_TIMEOUT_MS)
  })

/** What a tool printed on stderr around its sign-in URL, line by line (without their "\n"). */
interface Printed {
  /** The lines before "Starting local login server…". */
  readonly before: ReadonlyArray<string>
  /** "Starting…", "If your browser…", "", the URL, "", "On a remote or headless machine?…". */
  readonly block: ReadonlyArray<string>
  /** The complete lines after them, until the tool was killed. */
  readonly after: ReadonlyArray<string>
  readonly stderr: string
}

const splitPrinted = (tool: Tool, stderr: string): Printed => {
  const lines = stderr.split("\n").slice(0, -1) // complete lines only
  const first = lines.findIndex((line) => line.startsWith("Starting local login server on "))
  assert.isAtLeast(first, 0, `${tool} printed no "Starting local login server on" line:\n${stderr}`)
  assert.isAtLeast(lines.length, first + 6, `${tool} printed fewer than six lines from "Starting…" on:\n${stderr}`)
  return { before: lines.slice(0, first), block: lines.slice(first, first + 6), after: lines.slice(first + 6), stderr }
}

/**
 * Starts one tool's browser login in a fresh CODEX_HOME (config.toml on loopback plus `config`), waits (bounded) until
 * it printed its sign-in lines (devicecode: and its no-browser line), kills it, and returns what it printed. Port 1455
 * is free again when this returns.
 */
const capture = (context: RunContext, tool: Tool) =>
  Effect.scoped(
    Effect.gen(function* () {
      const home = yield* makeHome(context)
      const env = { ...home.env, BROWSER: "true" }
      const argv = tool === "codex" ? ["login"] : ["login", "--browser", "--issuer", context.issuer.url]
      const child = yield* start(tool, context, { ...home, env }, argv, undefined)
      const printed = (pattern: RegExp) => pattern.test(child.output().stderr)
      const until = tool === "codex" ? [HEADLESS_LINE] : [HEADLESS_LINE, NO_BROWSER_LINE]
      yield* eventually(
        `${tool} ${argv.join(" ")} printing its sign-in lines`,
        Effect.sync(() => {
          const done = until.every(printed)
          if (!done && child.exited()) {
            const { stdout, stderr } = child.output()
            assert.fail(`${tool} ${argv.join(" ")} ended before printing its sign-in lines:\n${stdout}\n${stderr}`)
          }
          return done
        }),
        PRINT_TIMEOUT_MS
      )
      const still = !child.exited()
      yield* killAndWait(tool, child)
      assert.isTrue(still, `${tool} was still waiting for the callback when its URL was read`)
      return splitPrinted(tool, child.output().stderr)
    })
  )

/** An authorize URL taken apart as printed: the part before "?", and each parameter's name and raw (encoded) value. */
const parseUrl = (tool: Tool, line: string) => {
  const question = line.indexOf("?")
  assert.isAbove(question, 0, `${tool}'s URL line has no query: ${line}`)
  assert.notInclude(line, "#", `${tool}'s URL has a fragment: ${line}`)
  const params = line
    .slice(question + 1)
    .split("&")
    .map((pair): readonly [string, string] => {
      const equals = pair.indexOf("=")
      assert.isAbove(equals, 0, `${tool}'s URL has a parameter without a value: ${pair}`)
      return [pair.slice(0, equals), pair.slice(equals + 1)]
    })
  return { base: line.slice(0, question), params }
}

/** A forced workspace (config.toml's `forced_chatgpt_workspace_id`), or none. */
interface Case {
  readonly name: string
  readonly config: string
  /** The `allowed_workspace_id` codex was seen to append last (0.169, 0.171), or undefined for none. */
  readonly workspace: string | undefined
}

const cases: ReadonlyArray<Case> = [
  { name: "no forced workspace", config: "", workspace: undefined },
  {
    name: 'forced_chatgpt_workspace_id = "ws-123"',
    config: 'forced_chatgpt_workspace_id = "ws-123"\n',
    workspace: "ws-123"
  }
]

/** Captures codex's printed sign-in, then devicecode's, and compares them. */
const compareSignIn = (version: string, codexBinary: string, testCase: Case) =>
  Effect.gen(function* () {
    const free = yield* portFree(PORT)
    assert.isTrue(
      free,
      `port ${PORT} on 127.0.0.1 is taken by another program: both codex and devicecode listen there for the ` +
        `browser login's callback (and codex would ask a login it finds there to /cancel), so this test needs it free`
    )
    const issuer = yield* LocalIssuer.make({ interval: "1 second" })
    const context: RunContext = {
      issuer,
      browser: makeBrowser(),
      version,
      codexBinary,
      config: testCase.config,
      keyring: false
    }
    const theirs = yield* capture(context, "codex")
    const ours = yield* capture(context, "devicecode")
    const where = `codex ${version}, ${testCase.name}`

    // before the lines: codex may warn (about PATH aliases under a temporary CODEX_HOME); devicecode prints nothing
    for (const line of theirs.before) assert.match(line, /^WARNING: /, `${where}: codex's line before the sign-in`)
    assert.deepStrictEqual(ours.before, [], `${where}: devicecode printed before its sign-in lines:\n${ours.stderr}`)

    // the lines: codex's, byte for byte, but the device login it points to (and devicecode's reason for opening no
    // browser after them)
    assert.deepStrictEqual(
      [theirs.block[0], theirs.block[1], theirs.block[2], theirs.block[4], theirs.block[5]],
      [STARTING, NAVIGATE, "", "", CODEX_HEADLESS],
      `${where}: codex's sign-in lines:\n${theirs.stderr}`
    )
    assert.deepStrictEqual(
      [ours.block[0], ours.block[1], ours.block[2], ours.block[4]],
      [theirs.block[0], theirs.block[1], theirs.block[2], theirs.block[4]],
      `${where}: devicecode's sign-in lines:\n${ours.stderr}`
    )
    assert.strictEqual(
      ours.block[5],
      theirs.block[5]!.replace(CODEX_DEVICE_LOGIN, DEVICECODE_DEVICE_LOGIN),
      `${where}: the last line differs only in the device login it names`
    )
    assert.match(
      ours.after[0] ?? "",
      /^No browser was opened: there is no display\. /,
      `${where}: devicecode's line after the sign-in lines`
    )

    // the URL: where it goes
    const codexUrl = parseUrl("codex", theirs.block[3]!)
    const ourUrl = parseUrl("devicecode", ours.block[3]!)
    assert.strictEqual(codexUrl.base, `${CODEX_ORIGIN}${AUTHORIZE_PATH}`, `${where}: codex's authorize endpoint`)
    assert.strictEqual(ourUrl.base, `${issuer.url}${AUTHORIZE_PATH}`, `${where}: devicecode's authorize endpoint`)
    assert.strictEqual(new URL(ourUrl.base).pathname, new URL(codexUrl.base).pathname, `${where}: the path`)

    // its parameters: the same names in the same order; the same values, the random ones by shape
    const names = (params: ReadonlyArray<readonly [string, string]>) => params.map(([name]) => name)
    assert.deepStrictEqual(names(ourUrl.params), names(codexUrl.params), `${where}: the parameters, in order`)
    for (const name of RANDOM) assert.include(names(codexUrl.params), name, `${where}: codex sends ${name}`)
    codexUrl.params.forEach(([name, value], i) => {
      const ourValue = ourUrl.params[i]![1]
      if (RANDOM.has(name)) {
        assert.match(value, RANDOM_SHAPE, `${where}: codex's ${name}`)
        assert.match(ourValue, RANDOM_SHAPE, `${where}: devicecode's ${name}`)
      } else {
        assert.strictEqual(ourValue, value, `${where}: ${name}`)
      }
    })
    assert.notStrictEqual(
      ourUrl.params.find(([name]) => name === "state")![1],
      ourUrl.params.find(([name]) => name === "code_challenge")![1],
      `${where}: devicecode's state and code_challenge are two values`
    )

    // the forced workspace: what codex does with it (and devicecode, by the comparison above)
    const workspaceParams = codexUrl.params.filter(([name]) => name === "allowed_workspace_id")
    if (testCase.workspace === undefined) {
      assert.deepStrictEqual(workspaceParams, [], `${where}: codex sends no allowed_workspace_id`)
    } else {
      assert.deepStrictEqual(
        codexUrl.params.at(-1),
        ["allowed_workspace_id", testCase.workspace],
        `${where}: codex sends allowed_workspace_id last`
      )
      assert.strictEqual(workspaceParams.length, 1, `${where}: codex sends allowed_workspace_id once`)
    }
    console.log(
      `conformance codex ${version} browser login (${testCase.name}): ${codexUrl.params.length} parameters and ` +
        `the sign-in lines compared, no difference`
    )
  })

const title = "the browser login's authorize URL against the real codex (test/conformance)"

// one after the other (not concurrent): both tools of every test listen on 127.0.0.1:1455
describeWithCodex(codex, title, "compares devicecode's authorize URL with codex's", (binaries) => {
  for (const version of codexVersions) {
    for (const testCase of cases) {
      it.scopedLive(
        `codex ${version}: ${testCase.name}`,
        () => compareSignIn(version, binaries.get(version)!, testCase),
        SCENARIO_TIMEOUT_MS
      )
    }
  }
})
