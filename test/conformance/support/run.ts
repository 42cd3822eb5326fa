import { Effect, type Scope } from "effect"
import { spawn } from "node:child_process"
import { createHash } from "node:crypto"
import { lstatSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { LocalIssuer } from "../../../src/testing/index.js"
import { runSecretTool } from "../../support/secretService.js"
import { AUTH_PATHS } from "./compare.js"
import type { FileEntry, KeyringItem, RecordedRequest, Snapshot, StepOutput } from "./observation.js"

/** The two programs compared. */
export type Tool = "codex" | "devicecode"

const devicecodeBin = fileURLToPath(new URL("../../../bin/devicecode.cjs", import.meta.url))

/** What the person at the browser does with a device code: the harness plays them inside the issuer. */
export type Approval = "at once" | "after a pending poll" | "deny" | "expire" | "none"

/**
 * The person at the browser, played from the issuer's `onRequest`, which runs before each answer is written: "at once"
 * approves a code before the user-code answer that carries it leaves, the others act on a code before the answer to
 * its first pending poll leaves. So how many polls each tool makes never depends on timing.
 */
export interface Browser {
  /** What to do with the codes of the step that runs now. */
  approval: Approval
  readonly onRequest: (request: LocalIssuer.LocalIssuerRequest) => Effect.Effect<void>
  /** Binds it to its issuer (which is made with its `onRequest`). */
  readonly attach: (issuer: LocalIssuer.LocalIssuer) => void
}

const USER_CODE_PATH = "/api/accounts/deviceauth/usercode"
const POLL_PATH = "/api/accounts/deviceauth/token"

/** A browser that does nothing until a step sets its approval. */
export const makeBrowser = (): Browser => {
  let issuer: LocalIssuer.LocalIssuer | undefined
  const browser: Browser = {
    approval: "none",
    attach: (it) => void (issuer = it),
    onRequest: (request) =>
      Effect.gen(function* () {
        const approval = browser.approval
        if (issuer === undefined || approval === "none" || request.method !== "POST") return
        if (approval === "at once" && request.path === USER_CODE_PATH && request.status === 200) {
          const codes = yield* issuer.codes
          const latest = codes.at(-1)
          if (latest?.status === "pending") yield* issuer.approve(latest.userCode)
          return
        }
        if (approval !== "at once" && request.path === POLL_PATH && request.status === 403) {
          const userCode = userCodeOf(request.body)
          if (userCode === undefined) return
          yield* approval === "deny"
            ? issuer.deny(userCode)
            : approval === "expire"
              ? issuer.expire(userCode)
              : issuer.approve(userCode)
        }
      })
  }
  return browser
}

const userCodeOf = (body: string | undefined): string | undefined => {
  try {
    const parsed = JSON.parse(body ?? "") as { user_code?: unknown }
    return typeof parsed.user_code === "string" ? parsed.user_code : undefined
  } catch {
    return undefined
  }
}

/** One (scenario, codex version) run: the issuer both tools talk to, and what the scenario configures. */
export interface RunContext {
  readonly issuer: LocalIssuer.LocalIssuer
  readonly browser: Browser
  readonly version: string
  readonly codexBinary: string
  /** Extra config.toml lines of the scenario. */
  readonly config: string
  /** Whether the tools may reach the Secret Service (the keyring scenario): only then do they get the D-Bus address. */
  readonly keyring: boolean
}

/** A side's CODEX_HOME and HOME (both fresh), its keyring account and the environment every run of it gets. */
export interface Home {
  readonly codexHome: string
  readonly home: string
  readonly account: string
  readonly env: Readonly<Record<string, string>>
}

/** codex's keyring account for a CODEX_HOME: `cli|` + 16 hex chars of SHA-256 of its canonical path. */
export const accountOf = (codexHome: string): string =>
  `cli|${createHash("sha256").update(realpathSync(codexHome)).digest("hex").slice(0, 16)}`

const tempDir = (prefix: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), prefix))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/** The Secret Service items of `account` under codex's service, read with secret-tool (not with the code under test). */
export const keyringItems = (account: string): ReadonlyArray<KeyringItem> => {
  const result = runSecretTool(["search", "--all", "service", "Codex Auth", "username", account])
  if (result.error) throw result.error
  // secret-tool prints label, secret, dates and schema on stdout, the attributes on stderr, item by item
  const items: Array<{ label: string; schema: string; secret: string }> = []
  for (const line of result.stdout.split("\n")) {
    if (/^\[.*\]$/.test(line)) items.push({ label: "", schema: "", secret: "" })
    const field = /^(label|secret|schema) = (.*)$/.exec(line)
    const item = items.at(-1)
    if (field && item) item[field[1] as "label" | "schema" | "secret"] = field[2]!
  }
  const attributeLists: Array<Array<readonly [string, string]>> = []
  const schemas: Array<string> = []
  for (const line of result.stderr.split("\n")) {
    const schema = /^schema = (.*)$/.exec(line)
    if (schema) schemas.push(schema[1]!)
    const field = /^attribute\.([^ ]+) = (.*)$/.exec(line)
    if (!field) continue
    const current = attributeLists.at(-1)
    if (current === undefined || current.some(([name]) => name === field[1]))
      attributeLists.push([[field[1]!, field[2]!]])
    else current.push([field[1]!, field[2]!])
  }
  items.forEach((item, i) => {
    if (item.schema === "") item.schema = schemas[i] ?? ""
  })
  return items.map((item, i) => ({
    ...item,
    attributes: [...(attributeLists[i] ?? [])].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  }))
}

/**
 * A fresh CODEX_HOME with the config.toml that keeps codex on loopback (plus the scenario's keys), a fresh HOME, and
 * the environment of every run: nothing of this process's but PATH (and the D-Bus address in the keyring scenario).
 */
export const makeHome = (context: RunContext): Effect.Effect<Home, never, Scope.Scope> =>
  Effect.gen(function* () {
    const codexHome = yield* tempDir("devicecode-conformance-home-")
    const home = yield* tempDir("devicecode-conformance-user-")
    const url = context.issuer.url
    writeFileSync(
      join(codexHome, "config.toml"),
      `chatgpt_base_url = "${url}"\nopenai_base_url = "${url}/v1"\n${context.config}`
    )
    const account = accountOf(codexHome)
    if (context.keyring) {
      yield* Effect.addFinalizer(() =>
        Effect.sync(() => void runSecretTool(["clear", "service", "Codex Auth", "username", account]))
      )
    }
    const bus = process.env.DBUS_SESSION_BUS_ADDRESS
    return {
      codexHome,
      home,
      account,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        CODEX_HOME: codexHome,
        HOME: home,
        CODEX_REFRESH_TOKEN_URL_OVERRIDE: `${url}/oauth/token`,
        CODEX_REVOKE_TOKEN_URL_OVERRIDE: `${url}/oauth/revoke`,
        ...(context.keyring && bus !== undefined ? { DBUS_SESSION_BUS_ADDRESS: bus } : {})
      }
    }
  })

/** What a CODEX_HOME holds (and, in the keyring scenario, its keyring items), walked now. */
export const snapshot = (context: RunContext, home: Home, label: string): Snapshot => {
  const files: Array<FileEntry> = []
  const walk = (relative: string): void => {
    for (const name of readdirSync(join(home.codexHome, relative)).sort()) {
      const path = relative === "" ? name : `${relative}/${name}`
      const stat = lstatSync(join(home.codexHome, path))
      const type = stat.isFile()
        ? "file"
        : stat.isDirectory()
          ? "directory"
          : stat.isSymbolicLink()
            ? "symlink"
            : "other"
      const readable = type === "file" && (name === "auth.json" || name === "config.toml") && relative === ""
      files.push({
        path,
        type,
        mode: stat.mode & 0o7777,
        size: stat.size,
        ...(readable ? { content: readFileSync(join(home.codexHome, path), "utf8") } : {})
      })
      if (type === "directory") walk(path)
    }
  }
  walk("")
  return { label, files, ...(context.keyring ? { keyring: keyringItems(home.account) } : {}) }
}

/** What a step does. */
export type Command =
  /** A device login, with what the person at the browser does once the code has been polled once while pending. */
  | {
      readonly kind: "device login"
      readonly approval: "at once" | "after a pending poll" | "deny" | "expire" | "none"
    }
  | { readonly kind: "api key login"; readonly input: string }
  | { readonly kind: "status" }
  | { readonly kind: "logout" }
  /**
   * A refresh of an expired access token: `codex exec` (which refreshes at start, then keeps calling its API, so it
   * is stopped once the refresh is over: the issuer answered it and auth.json changed, or codex logged the failure)
   * or `devicecode token`.
   */
  | { readonly kind: "refresh"; readonly until: "refreshed" | "failed" }

const argvOf = (context: RunContext, tool: Tool, command: Command): ReadonlyArray<string> => {
  const url = context.issuer.url
  switch (command.kind) {
    case "device login":
      return tool === "codex" ? ["login", "--device-auth", "--experimental_issuer", url] : ["login", "--issuer", url]
    case "api key login":
      return ["login", "--with-api-key"]
    case "status":
      return tool === "codex" ? ["login", "status"] : ["status"]
    case "logout":
      return ["logout"]
    case "refresh":
      return tool === "codex" ? ["exec", "--skip-git-repo-check", "hi"] : ["token"]
  }
}

/** A step's bound: no step of any scenario takes this long unless something is wrong. */
const STEP_TIMEOUT_MS = 40_000

/** Waits (bounded, polling the issuer's log) until `condition` holds. */
const waitUntil = (what: string, condition: Effect.Effect<boolean>, timeoutMs = STEP_TIMEOUT_MS) =>
  Effect.gen(function* () {
    while (!(yield* condition)) yield* Effect.sleep("20 millis")
  }).pipe(
    Effect.timeoutFail({
      duration: timeoutMs,
      onTimeout: () => new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    }),
    Effect.orDie
  )

/** A running tool (see {@link start}). */
export interface Child {
  /** Its pid, which is also its process group's id (it is started detached); undefined if the spawn failed. */
  readonly pid: number | undefined
  readonly output: () => { readonly stdout: string; readonly stderr: string }
  readonly exited: () => boolean
  readonly exit: Effect.Effect<number | string>
  /** SIGKILL to the child's whole process group (codex exec starts helpers). */
  readonly kill: Effect.Effect<void>
}

/** Starts a tool in its own process group, in `home` with `home.env`; SIGKILLed (the whole group) with the scope. */
export const start = (
  tool: Tool,
  context: RunContext,
  home: Home,
  argv: ReadonlyArray<string>,
  input: string | undefined
) =>
  Effect.acquireRelease(
    Effect.sync((): Child => {
      const [command, args] =
        tool === "codex" ? [context.codexBinary, argv] : [process.execPath, [devicecodeBin, ...argv]]
      const child = spawn(command, args, {
        cwd: home.home,
        env: home.env,
        detached: true,
        stdio: [input === undefined ? "ignore" : "pipe", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      let done = false
      child.stdout!.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
      child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
      child.stdin?.end(input)
      const exited = new Promise<number | string>((resolve) =>
        child.once("close", (code, signal) => {
          done = true
          resolve(code ?? signal ?? "unknown")
        })
      )
      const kill = Effect.sync(() => {
        if (done || child.pid === undefined) return
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          child.kill("SIGKILL")
        }
      })
      return {
        pid: child.pid,
        output: () => ({ stdout, stderr }),
        exited: () => done,
        exit: Effect.promise(() => exited),
        kill
      }
    }),
    (child) => child.kill
  )

/** Runs one command of one tool to its end (bounded) and returns what it printed and the requests it made. */
export const runStep = (
  context: RunContext,
  tool: Tool,
  home: Home,
  label: string,
  command: Command
): Effect.Effect<{ readonly step: StepOutput; readonly requests: ReadonlyArray<RecordedRequest> }> =>
  Effect.scoped(
    Effect.gen(function* () {
      const { issuer } = context
      const before = (yield* issuer.requests).length
      context.browser.approval = command.kind === "device login" ? command.approval : "none"
      yield* Effect.addFinalizer(() => Effect.sync(() => void (context.browser.approval = "none")))
      const authBefore = readAuth(home)
      const child = yield* start(
        tool,
        context,
        home,
        argvOf(context, tool, command),
        command.kind === "api key login" ? command.input : undefined
      )
      const since = Effect.map(issuer.requests, (requests) => requests.slice(before))
      let exit: number | string
      if (command.kind === "refresh" && tool === "codex") {
        // over once the issuer answered its refresh and its agent made its first API call (not compared, but every
        // run then has some, so the allowed difference that names them always occurs)
        const answered = Effect.map(
          since,
          (requests) => requests.some((r) => r.path === "/oauth/token") && requests.some((r) => !AUTH_PATHS.has(r.path))
        )
        const over =
          command.until === "refreshed"
            ? Effect.map(answered, (done) => done && readAuth(home) !== authBefore)
            : Effect.map(
                answered,
                (done) => done && /codex_login::\S+: Failed to refresh token: /.test(child.output().stderr)
              )
        yield* waitUntil(
          `codex exec's refresh (${command.until})`,
          Effect.map(over, (done) => done || child.exited())
        )
        if (!child.exited()) {
          yield* child.kill
          yield* child.exit
          exit = "killed"
        } else {
          exit = yield* child.exit
        }
      } else {
        exit = yield* child.exit.pipe(
          Effect.timeoutFail({
            duration: STEP_TIMEOUT_MS,
            onTimeout: () =>
              new Error(`${tool} ${argvOf(context, tool, command).join(" ")} did not end within ${STEP_TIMEOUT_MS} ms`)
          }),
          Effect.orDie
        )
      }
      const { stdout, stderr } = child.output()
      return {
        step: {
          label,
          exit,
          stdout,
          stderr,
          outcome: command.kind === "refresh" && tool === "codex" ? "auth log" : "all"
        },
        requests: yield* since
      }
    })
  )

const readAuth = (home: Home): string | undefined => {
  try {
    return readFileSync(join(home.codexHome, "auth.json"), "utf8")
  } catch {
    return undefined
  }
}
