import { Effect, type Scope } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { CODEX_CLIENT_ID } from "../../src/domain/CodexWire.js"
import type { Observation, RecordedRequest, Snapshot, StepOutput } from "./support/observation.js"
import {
  type Approval,
  type Command,
  type Home,
  makeHome,
  type RunContext,
  runStep,
  snapshot,
  type Tool
} from "./support/run.js"

/** The API key the API-key scenarios pipe to both tools (a made-up one: it is never sent anywhere). */
export const API_KEY = "sk-proj-abcdefghijklmnop12345"

/** One tool's part of a scenario: the steps it runs, recording the compared ones. */
export class Side {
  readonly steps: Array<StepOutput> = []
  readonly requests: Array<RecordedRequest> = []
  readonly snapshots: Array<Snapshot> = []
  throughFirstRefresh = false

  constructor(
    readonly tool: Tool,
    readonly context: RunContext
  ) {}

  /** A fresh CODEX_HOME (with the scenario's config.toml) and HOME. */
  home(): Effect.Effect<Home, never, Scope.Scope> {
    return makeHome(this.context)
  }

  /** A compared step: what it prints, its exit code and its requests are compared with the other tool's. */
  step(home: Home, label: string, command: Command): Effect.Effect<StepOutput> {
    return Effect.map(runStep(this.context, this.tool, home, label, command), ({ requests, step }) => {
      this.steps.push(step)
      this.requests.push(...requests)
      if (this.tool === "codex" && command.kind === "refresh") this.throughFirstRefresh = true
      return step
    })
  }

  /** A step that only prepares a CODEX_HOME (by `by`, default this side's tool); it must succeed. */
  setup(home: Home, command: Command, by: Tool = this.tool): Effect.Effect<void> {
    return Effect.flatMap(runStep(this.context, by, home, "setup", command), ({ step }) =>
      step.exit === 0
        ? Effect.void
        : Effect.die(new Error(`setup: ${by} ${command.kind} exited ${step.exit} (run it by hand to see why)`))
    )
  }

  /** Records what the CODEX_HOME (and keyring) hold now, to be compared. */
  snapshot(home: Home, label: string): Effect.Effect<void> {
    return Effect.sync(() => void this.snapshots.push(snapshot(this.context, home, label)))
  }

  observation(home: Home): Observation {
    return {
      issuer: this.context.issuer.url,
      known: { home: home.codexHome, account: home.account, apiKey: API_KEY },
      requests: this.requests,
      throughFirstRefresh: this.throughFirstRefresh,
      steps: this.steps,
      snapshots: this.snapshots
    }
  }
}

/** A scenario, played once by each tool against the same LocalIssuer. */
export interface Scenario {
  readonly name: string
  /** config.toml lines besides the two base URLs. */
  readonly config?: string
  /** Needs a Secret Service (the keyring store). */
  readonly keyring?: boolean
  /** Plays the scenario for one tool; returns the CODEX_HOME whose files are compared. */
  readonly play: (side: Side) => Effect.Effect<Home, never, Scope.Scope>
  /**
   * Each tool also runs this step's command on the CODEX_HOME the other tool wrote: it must print what it prints on
   * its own (the last compared step).
   */
  readonly crossRead?: Command
}

const login = (approval: Approval): Command => ({
  kind: "device login",
  approval
})

/** A sign-in whose access token is already expired, made by codex (the same starting point for both tools). */
const expiredCodexSignIn = (side: Side, home: Home) =>
  Effect.gen(function* () {
    const { issuer } = side.context
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 0 })
    yield* side.setup(home, login("at once"), "codex")
    // born-expired refreshed tokens would make codex exec refresh again and again
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
  })

/** Spends the stored refresh token at the issuer, as another program sharing the sign-in would. */
const spendRefreshToken = (side: Side, home: Home) =>
  Effect.promise(async () => {
    const record = JSON.parse(readFileSync(join(home.codexHome, "auth.json"), "utf8")) as {
      tokens: { refresh_token: string }
    }
    const response = await fetch(`${side.context.issuer.url}/oauth/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        client_id: CODEX_CLIENT_ID,
        grant_type: "refresh_token",
        refresh_token: record.tokens.refresh_token
      })
    })
    await response.text()
    if (response.status !== 200) throw new Error(`spending the refresh token answered ${response.status}`)
  })

/**
 * A scenario of one compared step: prepare the CODEX_HOME (`prepare`: a setup, another program's action), run `command`
 * (its step and snapshot named by `label`), and compare what is left.
 */
const oneStep = (
  name: string,
  label: string,
  command: Command,
  options: {
    readonly config?: string
    readonly keyring?: boolean
    readonly crossRead?: Command
    readonly prepare?: (side: Side, home: Home) => Effect.Effect<void>
  } = {}
): Scenario => ({
  name,
  ...(options.config === undefined ? {} : { config: options.config }),
  ...(options.keyring === undefined ? {} : { keyring: options.keyring }),
  ...(options.crossRead === undefined ? {} : { crossRead: options.crossRead }),
  play: (side) =>
    Effect.gen(function* () {
      const home = yield* side.home()
      if (options.prepare !== undefined) yield* options.prepare(side, home)
      yield* side.step(home, label, command)
      yield* side.snapshot(home, `after ${label}`)
      return home
    })
})

/** A setup made by codex, so that both tools start from the same sign-in. */
const byCodex =
  (command: Command) =>
  (side: Side, home: Home): Effect.Effect<void> =>
    side.setup(home, command, "codex")

const loginScenario = (name: string, approval: Approval, config?: string): Scenario =>
  oneStep(name, "login", login(approval), config === undefined ? {} : { config })

const apiKeyScenario = (name: string, input: string, config?: string): Scenario =>
  oneStep(name, "login", { kind: "api key login", input }, config === undefined ? {} : { config })

// each tool signs in itself, then status on its own CODEX_HOME is compared, and cross-read on the other's
const statusScenario = (name: string, signIn: Command | undefined): Scenario =>
  oneStep(
    name,
    "status",
    { kind: "status" },
    {
      crossRead: { kind: "status" },
      ...(signIn === undefined ? {} : { prepare: (side: Side, home: Home) => side.setup(home, signIn) })
    }
  )

/** Every scenario, each run against every codex version. */
export const scenarios: ReadonlyArray<Scenario> = [
  loginScenario("device-login", "after a pending poll"),
  loginScenario("login-denied", "deny"),
  loginScenario("login-expired", "expire"),
  // a failed login over a sign-in: codex removed the old one when the login started, devicecode keeps it
  oneStep("login-denied-signed-in", "login", login("deny"), {
    prepare: byCodex({ kind: "api key login", input: API_KEY })
  }),
  loginScenario("workspace-mismatch", "at once", 'forced_chatgpt_workspace_id = "ws-other"\n'),
  // refused before any request; a code that is issued all the same is denied, so the login ends
  loginScenario("forced-login-api", "deny", 'forced_login_method = "api"\n'),
  apiKeyScenario("forced-login-chatgpt", API_KEY, 'forced_login_method = "chatgpt"\n'),
  apiKeyScenario("api-key-login", API_KEY),
  apiKeyScenario("api-key-empty", ""),
  statusScenario("status-none", undefined),
  statusScenario("status-api-key", { kind: "api key login", input: API_KEY }),
  statusScenario("status-chatgpt", login("at once")),
  oneStep("logout", "logout", { kind: "logout" }, { prepare: byCodex(login("at once")) }),
  oneStep("logout-signed-out", "logout", { kind: "logout" }),
  oneStep("refresh", "refresh", { kind: "refresh", until: "refreshed" }, { prepare: expiredCodexSignIn }),
  oneStep(
    "refresh-token-reused",
    "refresh",
    { kind: "refresh", until: "failed" },
    {
      prepare: (side, home) => Effect.zipRight(expiredCodexSignIn(side, home), spendRefreshToken(side, home))
    }
  ),
  {
    name: "keyring",
    keyring: true,
    config: 'cli_auth_credentials_store = "keyring"\n',
    crossRead: { kind: "status" },
    play: (side) =>
      Effect.gen(function* () {
        const home = yield* side.home()
        yield* side.step(home, "login", login("at once"))
        yield* side.snapshot(home, "after login")
        yield* side.step(home, "status", { kind: "status" })
        return home
      })
  },
  oneStep(
    "keyring-logout",
    "logout",
    { kind: "logout" },
    { keyring: true, config: 'cli_auth_credentials_store = "keyring"\n', prepare: byCodex(login("at once")) }
  )
]
