import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Exit, Fiber, Layer, Option, Random, Redacted, TestClock } from "effect"
import * as fc from "fast-check"
import { encodeStoredAuth, type StoredAuth } from "../src/domain/StoredAuth.js"
import type { LoginEvent } from "../src/domain/LoginEvent.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as MemoryStore from "../src/layers/MemoryStore.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import { CredentialStore } from "../src/services/CredentialStore.js"
import { login } from "../src/services/login.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import * as TestPkce from "../src/testing/TestPkce.js"
import { letEventLoopTurn } from "./support/eventLoop.js"
import { json, type Reply } from "./support/fakeHttp.js"
import {
  type Answer,
  answerArb,
  causeProblems,
  draw,
  type EndpointShape,
  failuresOf,
  FUZZ_SEED,
  isBlank,
  isUsableLifetime,
  leakedIn,
  outcomeOf,
  type Problem,
  report,
  servingClient,
  type Violation
} from "./support/fuzzAnswers.js"
import {
  CODEX,
  codexPoll,
  codexUserCode,
  DEVICE,
  OIDC,
  oidcDevice,
  oidcToken,
  OPENID,
  REVOKE,
  TOKEN,
  tokensShape
} from "./support/fuzzShapes.js"
import { fixedChatgptAuth } from "./support/records.js"

/**
 * The login stage over generated server answers, through the real issuers, polling schedule, PKCE check, workspace
 * check and persistTokens, with a MemoryStore, on TestClock: whatever the server says, the login ends (no hang), with
 * a typed error or a complete record, never a defect, a secret in a message or event, or a partial write.
 */

/** The answers of one endpoint, in order, then `last` for every later request. */
interface Script {
  readonly answers: ReadonlyArray<Answer>
  /** After the scripted answers: a valid answer (so logins can complete), or a final refusal. */
  readonly last: "valid" | "refuse"
}

/** An answer that lets the login go on: a valid 200, or (for a poll) still pending. */
const friendly = (shape: EndpointShape, pending?: Reply): fc.Arbitrary<Answer> =>
  fc.oneof(
    shape.valid.map((body): Answer => ({ status: 200, kind: "valid", body: JSON.stringify(body), headers: {} })),
    ...(pending === undefined
      ? []
      : [
          fc.constant<Answer>({
            status: pending.status,
            kind: "valid",
            body: pending.body ?? "",
            headers: pending.headers ?? {}
          })
        ])
  )

const scriptArb = (shape: EndpointShape, maxLength: number, pending?: Reply): fc.Arbitrary<Script> =>
  fc.record({
    answers: fc.array(
      fc.oneof({ arbitrary: friendly(shape, pending), weight: 1 }, { arbitrary: answerArb(shape), weight: 2 }),
      { minLength: 1, maxLength }
    ),
    last: fc.constantFrom("valid" as const, "refuse" as const)
  })

const codexPending = json(403, { error: { code: "deviceauth_authorization_pending" } })
const oidcPending = json(400, { error: "authorization_pending" })

interface LoginCase {
  readonly dialect: "codex" | "rfc8628"
  readonly start: Script
  readonly poll: Script
  readonly exchange: Script
  readonly previous: boolean
  readonly forcedWorkspace: string | undefined
  readonly valid: { readonly start: object; readonly poll: object; readonly exchange: object }
}

const loginCaseArb: fc.Arbitrary<LoginCase> = fc
  .oneof(
    { weight: 3, arbitrary: fc.constant("codex" as const) },
    { weight: 2, arbitrary: fc.constant("rfc8628" as const) }
  )
  .chain((dialect) =>
    fc.record({
      dialect: fc.constant(dialect),
      start: scriptArb(dialect === "codex" ? codexUserCode : oidcDevice, 2),
      poll: scriptArb(dialect === "codex" ? codexPoll : oidcToken, 5, dialect === "codex" ? codexPending : oidcPending),
      exchange: scriptArb(tokensShape(true), 2),
      previous: fc.boolean(),
      forcedWorkspace: fc.constantFrom(undefined, undefined, "acct_fuzz", "acct_other"),
      valid: fc.record({
        start: dialect === "codex" ? codexUserCode.valid : oidcDevice.valid,
        poll: dialect === "codex" ? codexPoll.valid : oidcToken.valid,
        exchange: tokensShape(true).valid
      })
    })
  )

const refusal = json(400, { error: "invalid_request", error_description: "The fuzz script ended here." })

/** Serves a script: its answers in order, then its last answer for ever. */
const serve = (script: Script, valid: object) => {
  let next = 0
  return (): Answer | Reply => script.answers[next++] ?? (script.last === "valid" ? json(200, valid) : refusal)
}

/** Whether a stored record is whole: an auth mode, tokens with a usable access token, a refresh time, encodable. */
const incomplete = (record: StoredAuth, dialect: LoginCase["dialect"]): string | undefined => {
  if (Option.isNone(record.authMode)) return "no auth_mode"
  if (Option.isNone(record.lastRefresh)) return "no last_refresh"
  if (Option.isNone(record.tokens)) return "no tokens"
  const tokens = record.tokens.value
  const blank = (o: Option.Option<Redacted.Redacted<string>>) => Option.exists(o, (t) => isBlank(Redacted.value(t)))
  if (isBlank(Redacted.value(tokens.accessToken))) return "a blank access_token"
  if (blank(tokens.idToken) || blank(tokens.refreshToken)) return "a blank id_token or refresh_token"
  if (dialect === "codex" && (Option.isNone(tokens.idToken) || Option.isNone(tokens.refreshToken))) {
    return "a codex sign-in without id_token or refresh_token"
  }
  try {
    encodeStoredAuth(record)
  } catch (e) {
    return `a record that cannot be encoded (${e instanceof Error ? e.name : "thrown"})`
  }
  return undefined
}

const sameRecord = (a: Option.Option<StoredAuth>, b: Option.Option<StoredAuth>): boolean => {
  const encode = (o: Option.Option<StoredAuth>) => Option.match(o, { onNone: () => "none", onSome: encodeStoredAuth })
  return encode(a) === encode(b)
}

const LOGIN_CASES = 450

const LOGIN_ERRORS = new Set(["DeviceAuthError", "WorkspaceError", "StoreError", "LoginMethodError"])

/** Runs one login case to its end on TestClock; the answers served, how it ended, what the store holds. */
const runLogin = (c: LoginCase) =>
  Effect.gen(function* () {
    const start = serve(c.start, c.valid.start)
    const poll = serve(c.poll, c.valid.poll)
    const exchange = serve(c.exchange, c.valid.exchange)
    const discovery = json(200, {
      issuer: OIDC,
      device_authorization_endpoint: DEVICE,
      token_endpoint: TOKEN,
      revocation_endpoint: REVOKE
    })
    const fake = servingClient((request) => {
      const path = new URL(request.url).pathname
      if (request.url === OPENID) return discovery
      if (path === "/api/accounts/deviceauth/usercode" || request.url === DEVICE) return start()
      if (path === "/api/accounts/deviceauth/token" || request.url === TOKEN) return poll()
      if (path === "/oauth/token") return exchange()
      return json(200, {})
    })
    const previous = c.previous ? Option.some(fixedChatgptAuth) : Option.none()
    const store = yield* MemoryStore.make(previous)
    const events: Array<LoginEvent> = []
    const flow =
      c.dialect === "codex"
        ? CodexIssuer.layer({ issuer: CODEX })
        : OidcIssuer.layer({ issuer: OIDC, clientId: "fuzz-client" })
    const http = Layer.succeed(HttpClient.HttpClient, fake.client)
    // the resolver the CLI uses: revoking unsaved tokens goes back to the issuer the sign-in's origin names
    const layer = Layer.mergeAll(
      flow.pipe(Layer.provide(Layer.merge(http, TestPkce.layer))),
      IssuerResolver.layer.pipe(Layer.provide(http)),
      Layer.succeed(CredentialStore, store),
      WorkspacePolicy.layer(Option.fromNullable(c.forcedWorkspace))
    )
    const fiber = yield* login({ onEvent: (event) => Effect.sync(() => void events.push(event)) }).pipe(
      Effect.provide(layer),
      Effect.withRandom(Random.fixed([0.5])),
      Effect.fork
    )
    // the longest login waits 15 minutes for approval, plus the bounded start and exchange around it
    for (let minute = 0; minute < 40 && fiber.unsafePoll() === null; minute++) {
      yield* TestClock.adjust("1 minute")
    }
    const hung = fiber.unsafePoll() === null
    const exit = hung ? yield* Fiber.interrupt(fiber) : yield* Fiber.await(fiber)
    return { exit, hung, served: fake.served, stored: yield* store.load, previous, events }
  })

const checkLogin = (c: LoginCase, run: Effect.Effect.Success<ReturnType<typeof runLogin>>): ReadonlyArray<Problem> => {
  const { events, exit, hung, previous, served, stored } = run
  const bodies = served.map((answer) => answer.body).join("\n")
  const problems: Array<Problem> = []
  if (hung) problems.push(["hung", "the login had not ended 40 minutes (TestClock) after it started"])
  for (const event of events) {
    if (event._tag === "Retrying") {
      const leaks = leakedIn(event.detail, bodies)
      if (leaks.length > 0) problems.push(["secret in message", `Retrying event: ${leaks.join(", ")}`])
      if (!isUsableLifetime(Duration.toMillis(event.delay)) || Duration.greaterThan(event.delay, "15 minutes")) {
        problems.push(["unusable duration", `a retry after ${Duration.format(event.delay)}`])
      }
    }
    if (event._tag === "CodeIssued" && isBlank(event.code.userCode)) {
      problems.push(["blank value accepted", "a blank user code was shown"])
    }
  }
  if (Exit.isSuccess(exit)) {
    const why = Option.match(stored, {
      onNone: () => "nothing stored after a successful login",
      onSome: (record) => incomplete(record, c.dialect)
    })
    if (why !== undefined) problems.push(["partial write", why])
    return problems
  }
  if (!hung) problems.push(...causeProblems(exit.cause))
  for (const error of failuresOf(exit)) {
    const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : typeof error
    const message = (error as { readonly message?: unknown }).message
    if (!LOGIN_ERRORS.has(tag) || typeof message !== "string") {
      problems.push(["untyped error", `failed with ${tag}`])
      continue
    }
    const leaks = leakedIn(message, bodies)
    if (leaks.length > 0) problems.push(["secret in message", `${leaks.join(", ")} in: ${message.slice(0, 300)}`])
    if (message.length > 1024) problems.push(["message over 1 KiB", `${message.length} chars`])
  }
  // a failed login leaves the store as it found it
  if (!sameRecord(stored, previous)) {
    problems.push([
      "partial write",
      Option.match(stored, {
        onNone: () => "the previous sign-in is gone",
        onSome: (record) =>
          `a failed login changed the store (${incomplete(record, c.dialect) ?? "a whole new record"})`
      })
    ])
  }
  return problems
}

// The 450 cases in 5 tests of 90: one test of all of them took 32 s beside two busy loops on two cores.
const LOGIN_PARTS = 5
const loginCases = draw(loginCaseArb, LOGIN_CASES, FUZZ_SEED + 100)

describe("fuzz: login over generated server answers (MemoryStore, TestClock)", () => {
  const size = Math.ceil(LOGIN_CASES / LOGIN_PARTS)
  for (let part = 0; part < LOGIN_PARTS; part++) {
    const cases = loginCases.slice(part * size, (part + 1) * size)
    it.effect(
      `cases ${part * size + 1}–${part * size + cases.length} of ${LOGIN_CASES}: each ends with a typed error and the store untouched, or a complete record`,
      () =>
        Effect.gen(function* () {
          const tally = { cases: 0, answers: 0, outcomes: new Map<string, number>() }
          const violations: Array<Violation> = []
          for (const c of cases) {
            yield* letEventLoopTurn
            const run = yield* runLogin(c)
            tally.cases += 1
            tally.answers += run.served.length
            const outcome = `${c.dialect} ${outcomeOf(run.exit)}`
            tally.outcomes.set(outcome, (tally.outcomes.get(outcome) ?? 0) + 1)
            for (const [kind, detail] of checkLogin(c, run)) violations.push({ kind, detail, answers: run.served })
          }
          assert.strictEqual(tally.cases, cases.length)
          const text = report(
            `login, part ${part + 1} of ${LOGIN_PARTS}`,
            { ...tally, seed: FUZZ_SEED + 100 },
            violations
          )
          assert.strictEqual(violations.length, 0, text)
        })
    )
  }
})
