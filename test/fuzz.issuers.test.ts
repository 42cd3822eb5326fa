import { HttpClient } from "@effect/platform"
import { afterAll, assert, describe, it } from "@effect/vitest"
import { Cause, Duration, Effect, Exit, Option, Redacted } from "effect"
import * as fc from "fast-check"
import { DeviceCode } from "../src/domain/DeviceCode.js"
import { DeviceAuthError } from "../src/domain/Errors.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import type { IssuerClient, RefreshedTokens } from "../src/services/IssuerClient.js"
import { AuthorizationGrant, type CompletedLogin, type LoginFlow, type PollResult } from "../src/services/LoginFlow.js"
import { TokenSet } from "../src/domain/TokenSet.js"
import { letEventLoopTurn } from "./support/eventLoop.js"
import { json } from "./support/fakeHttp.js"
import {
  CODEX,
  codexPoll,
  codexUserCode,
  DEVICE,
  discoveryShape,
  OAUTH,
  OIDC,
  oidcDevice,
  oidcToken,
  OPENID,
  REVOKE,
  revokeShape,
  TOKEN,
  tokensShape
} from "./support/fuzzShapes.js"
import {
  type Answer,
  answerArb,
  BODY_CAP,
  causeProblems,
  draw,
  failuresOf,
  FUZZ_SEED,
  isBlank,
  isUsableLifetime,
  leakedIn,
  markerJwt,
  markerOpaque,
  outcomeOf,
  type Problem,
  report,
  servingClient,
  type Violation
} from "./support/fuzzAnswers.js"

/**
 * Properties over every decoder and every answer the issuers handle: thousands of generated server answers (statuses
 * 2xx–5xx and 429; bodies valid, mutated field by field, error bodies, tokens inside errors, non-JSON, truncated, empty,
 * deeply nested, huge, over the 1 MiB cap; garbage Retry-After and Content-Length) run through the real CodexIssuer and
 * OidcIssuer over a fake HttpClient. Whatever the server says: no defect, only DeviceAuthErrors with a message, no
 * marker secret from a body in a message, nothing blank or oversized accepted.
 */

const codexCode = new DeviceCode({
  deviceCode: Redacted.make(markerOpaque("dc", 1)),
  userCode: "9F29-9M6JA",
  verificationUri: `${CODEX}/codex/device`,
  verificationUriComplete: Option.none(),
  interval: Duration.seconds(5),
  expiresAt: Option.none()
})

const oidcCode = new DeviceCode({ ...codexCode, verificationUri: `${OIDC}/device` })

const sentRefreshToken = Redacted.make(markerOpaque("rt", 2))
/** An approved code with a matching PKCE pair, so each case reaches the token endpoint. */
const codeGrant = (issuer: string, n: number) =>
  AuthorizationGrant.AuthorizationCode({
    code: Redacted.make(markerOpaque("dc", n)),
    codeVerifier: Redacted.make("fuzz-verifier"),
    codeChallenge: s256Challenge("fuzz-verifier"),
    redirectUri: `${issuer}/deviceauth/callback`
  })

const goodDiscovery = json(200, {
  issuer: OIDC,
  device_authorization_endpoint: DEVICE,
  token_endpoint: TOKEN,
  revocation_endpoint: REVOKE
})

const blank = (name: string, value: string): ReadonlyArray<Problem> =>
  isBlank(value) ? [["blank value accepted", `${name} is blank`]] : []

const blankSecret = (name: string, value: Redacted.Redacted<string>) => blank(name, Redacted.value(value))

const blankOption = (name: string, value: Option.Option<Redacted.Redacted<string>>) =>
  Option.match(value, { onNone: () => [], onSome: (v) => blankSecret(name, v) })

const usable = (name: string, value: Option.Option<Duration.Duration>): ReadonlyArray<Problem> =>
  Option.exists(value, (d) => !isUsableLifetime(Duration.toMillis(d)))
    ? [["unusable duration", `${name} of ${Duration.toMillis(Option.getOrThrow(value))} ms is no usable lifetime`]]
    : []

const checkDeviceCode = (code: DeviceCode): ReadonlyArray<Problem> => [
  ...blankSecret("device code", code.deviceCode),
  ...blank("user code", code.userCode),
  ...blank("verification URI", code.verificationUri),
  ...usable("interval", Option.some(code.interval)),
  ...(Duration.lessThan(code.interval, Duration.seconds(1))
    ? [["unusable duration", "interval under 1 s"] as const]
    : [])
]

const checkTokens = (tokens: TokenSet): ReadonlyArray<Problem> => [
  ...blankSecret("access_token", tokens.accessToken),
  ...blankOption("id_token", tokens.idToken),
  ...blankOption("refresh_token", tokens.refreshToken),
  ...usable("expires_in", tokens.expiresIn)
]

const checkPoll = (result: PollResult): ReadonlyArray<Problem> =>
  result._tag !== "Approved"
    ? []
    : result.grant._tag === "Tokens"
      ? checkTokens(result.grant.tokens)
      : [
          ...blankSecret("authorization_code", result.grant.code),
          ...blankSecret("code_verifier", result.grant.codeVerifier),
          ...blank("code_challenge", result.grant.codeChallenge)
        ]

const checkCompleted = (completed: CompletedLogin): ReadonlyArray<Problem> => checkTokens(completed.tokens)

const checkRefreshed = (tokens: RefreshedTokens): ReadonlyArray<Problem> => [
  ...blankOption("access_token", tokens.accessToken),
  ...blankOption("id_token", tokens.idToken),
  ...blankOption("refresh_token", tokens.refreshToken),
  ...usable("expires_in", tokens.expiresIn)
]

/** What every failure must be: a DeviceAuthError with a short message that quotes no secret. */
const checkFailure = (error: unknown, served: ReadonlyArray<Answer>): ReadonlyArray<Problem> => {
  if (!(error instanceof DeviceAuthError)) {
    const tag = typeof error === "object" && error !== null && "_tag" in error ? String(error._tag) : typeof error
    return [["untyped error", `failed with ${tag}`]]
  }
  let message: unknown
  try {
    message = error.message
  } catch (e) {
    return [["untyped error", `its message throws ${String(e)}`]]
  }
  if (typeof message !== "string") return [["untyped error", `its message is ${typeof message}`]]
  const bodies = served.map((answer) => answer.body).join("\n")
  const leaks = leakedIn(message, bodies)
  return [
    ...(leaks.length > 0 ? [["secret in message", `${leaks.join(", ")} in: ${message.slice(0, 300)}`] as const] : []),
    ...(message.length > 1024
      ? [["message over 1 KiB", `${message.length} chars: ${message.slice(0, 120)}…`] as const]
      : []),
    ...(error.status === 429 && error.reason === "Unavailable" && !/rate[ -]?limit/i.test(message)
      ? [["429 not called rate limited", message.slice(0, 200)] as const]
      : [])
  ]
}

const isOk = (status: number) => status >= 200 && status < 300

const totals = { answers: 0, cases: 0, violations: 0 }

/**
 * Runs one property: `cases` cases drawn from `arb` (seeded), each through `run`, which gives the exit and the
 * answers the fake client served. `decodes`: a success must not come from a 2xx body over the cap.
 */
const fuzz = <C, A, E>(options: {
  readonly name: string
  readonly seed: number
  readonly cases: number
  readonly arb: fc.Arbitrary<C>
  readonly run: (c: C) => Effect.Effect<{ readonly exit: Exit.Exit<A, E>; readonly served: ReadonlyArray<Answer> }>
  readonly check: (value: A) => ReadonlyArray<Problem>
  readonly decodes: boolean
}) =>
  Effect.gen(function* () {
    const tally = { cases: 0, answers: 0, outcomes: new Map<string, number>() }
    const violations: Array<Violation> = []
    for (const c of draw(options.arb, options.cases, options.seed)) {
      yield* letEventLoopTurn
      const { exit, served } = yield* options.run(c)
      tally.cases += 1
      tally.answers += served.length
      const outcome = outcomeOf(exit)
      tally.outcomes.set(outcome, (tally.outcomes.get(outcome) ?? 0) + 1)
      const add = (problems: ReadonlyArray<Problem>) => {
        for (const [kind, detail] of problems) violations.push({ kind, detail, answers: served })
      }
      if (Exit.isFailure(exit)) {
        add(causeProblems(exit.cause))
        for (const error of failuresOf(exit)) add(checkFailure(error, served))
      } else {
        add(options.check(exit.value))
        if (options.decodes && served.some((a) => isOk(a.status) && Buffer.byteLength(a.body) > BODY_CAP)) {
          add([["oversize body accepted", "a 2xx body over 1 MiB was read and accepted"]])
        }
      }
    }
    totals.answers += tally.answers
    totals.cases += tally.cases
    totals.violations += violations.length
    const text = report(options.name, { ...tally, seed: options.seed }, violations)
    assert.strictEqual(violations.length, 0, text)
  })

/** A dialect's login flow and issuer client, both over one fake HttpClient. */
interface Issuer {
  readonly flow: LoginFlow["Type"]
  readonly client: IssuerClient["Type"]
}

/** One call of a Codex issuer over a client serving `answer` to every request. */
const codexCall = <A>(answer: Answer, call: (issuer: Issuer) => Effect.Effect<A, DeviceAuthError>) =>
  Effect.gen(function* () {
    const fake = servingClient(() => answer)
    const issuer = yield* Effect.all({
      flow: CodexIssuer.makeLoginFlow({ issuer: CODEX }).pipe(Effect.provideService(Pkce.Pkce, Pkce.make)),
      client: CodexIssuer.makeClient({ issuer: CODEX })
    }).pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
    const exit = yield* Effect.exit(call(issuer))
    return { exit, served: fake.served }
  })

/** One call of an OIDC issuer: discovery from `discovery` (generated, or a good document), the rest from `answers`. */
const oidcCall = <A>(
  discovery: { readonly openid: Answer; readonly oauth: Answer } | undefined,
  answer: Answer,
  call: (issuer: Issuer) => Effect.Effect<A, DeviceAuthError>
) =>
  Effect.gen(function* () {
    const fake = servingClient((request) => {
      if (request.url === OPENID) return discovery?.openid ?? goodDiscovery
      if (request.url === OAUTH) return discovery?.oauth ?? json(404, {})
      return answer
    })
    const options = { issuer: OIDC, clientId: "fuzz-client" }
    const issuer = yield* Effect.all({
      flow: OidcIssuer.makeLoginFlow(options).pipe(Effect.provideService(Pkce.Pkce, Pkce.make)),
      client: OidcIssuer.makeClient(options)
    }).pipe(Effect.provideService(HttpClient.HttpClient, fake.client))
    const exit = yield* Effect.exit(call(issuer))
    return { exit, served: fake.served }
  })

const seedOf = (n: number) => FUZZ_SEED + n

describe("fuzz: CodexIssuer over generated server answers", () => {
  it.effect(
    "start (usercode)",
    () =>
      fuzz({
        name: "CodexIssuer.start",
        seed: seedOf(1),
        cases: 1100,
        arb: answerArb(codexUserCode),
        run: (answer) => codexCall(answer, ({ flow }) => flow.start),
        check: checkDeviceCode,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "poll",
    () =>
      fuzz({
        name: "CodexIssuer.poll",
        seed: seedOf(2),
        cases: 1300,
        arb: answerArb(codexPoll),
        run: (answer) => codexCall(answer, ({ flow }) => flow.poll(codexCode)),
        check: checkPoll,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "exchange",
    () =>
      fuzz({
        name: "CodexIssuer.exchange",
        seed: seedOf(3),
        cases: 1100,
        arb: answerArb(tokensShape(true)),
        run: (answer) => codexCall(answer, ({ flow }) => flow.complete(codeGrant(CODEX, 3))),
        check: checkCompleted,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "refresh",
    () =>
      fuzz({
        name: "CodexIssuer.refresh",
        seed: seedOf(4),
        cases: 1100,
        arb: answerArb(tokensShape(false)),
        run: (answer) => codexCall(answer, ({ client }) => client.refresh(sentRefreshToken)),
        check: checkRefreshed,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "revoke",
    () =>
      fuzz({
        name: "CodexIssuer.revoke",
        seed: seedOf(5),
        cases: 700,
        arb: answerArb(revokeShape),
        run: (answer) => codexCall(answer, ({ client }) => client.revoke(sentRefreshToken)),
        check: () => [],
        decodes: false
      }),
    60_000
  )
})

describe("fuzz: OidcIssuer over generated server answers", () => {
  it.effect(
    "discovery (then start)",
    () =>
      fuzz({
        name: "OidcIssuer.discovery",
        seed: seedOf(6),
        cases: 1000,
        arb: fc.record({
          openid: answerArb(discoveryShape),
          oauth: answerArb(discoveryShape),
          device: answerArb(oidcDevice)
        }),
        run: ({ device, oauth, openid }) => oidcCall({ openid, oauth }, device, ({ flow }) => flow.start),
        check: checkDeviceCode,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "start (device authorization)",
    () =>
      fuzz({
        name: "OidcIssuer.start",
        seed: seedOf(7),
        cases: 1000,
        arb: answerArb(oidcDevice),
        run: (answer) => oidcCall(undefined, answer, ({ flow }) => flow.start),
        check: checkDeviceCode,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "poll (device_code grant)",
    () =>
      fuzz({
        name: "OidcIssuer.poll",
        seed: seedOf(8),
        cases: 1300,
        arb: answerArb(oidcToken),
        run: (answer) => oidcCall(undefined, answer, ({ flow }) => flow.poll(oidcCode)),
        check: checkPoll,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "exchange (authorization_code grant)",
    () =>
      fuzz({
        name: "OidcIssuer.exchange",
        seed: seedOf(11),
        cases: 700,
        arb: answerArb(oidcToken),
        run: (answer) => oidcCall(undefined, answer, ({ flow }) => flow.complete(codeGrant(OIDC, 11))),
        check: checkCompleted,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "refresh",
    () =>
      fuzz({
        name: "OidcIssuer.refresh",
        seed: seedOf(9),
        cases: 1000,
        arb: answerArb(tokensShape(false)),
        run: (answer) => oidcCall(undefined, answer, ({ client }) => client.refresh(sentRefreshToken)),
        check: checkRefreshed,
        decodes: true
      }),
    60_000
  )

  it.effect(
    "revoke",
    () =>
      fuzz({
        name: "OidcIssuer.revoke",
        seed: seedOf(10),
        cases: 700,
        arb: answerArb(revokeShape),
        run: (answer) => oidcCall(undefined, answer, ({ client }) => client.revoke(sentRefreshToken)),
        check: () => [],
        decodes: false
      }),
    60_000
  )
})

const ALL_CASES = 11_000

afterAll(() => {
  console.log(
    `fuzz issuers total: seed ${FUZZ_SEED}, ${totals.cases} cases, ${totals.answers} generated server answers, ${totals.violations} violations`
  )
  // when every property ran (no -t filter), at least 10,000 answers went through the issuers
  if (totals.cases === ALL_CASES) assert.isAtLeast(totals.answers, 10_000)
})

describe("fuzz: the properties can fail", () => {
  it.effect("a defect, an untyped error, an echoed secret, a long message, a blank token are each caught", () =>
    Effect.gen(function* () {
      const kinds = (problems: ReadonlyArray<Problem>) => problems.map(([kind]) => kind)
      const refresh = markerOpaque("rt", 7)
      const jwt = markerJwt(7)
      const body = JSON.stringify({ error_description: `${refresh} ${jwt}` })
      const answer: Answer = { status: 400, kind: "error", body, headers: {} }
      const rejected = (detail: string, status = 400) =>
        new DeviceAuthError({
          reason: status === 429 ? "Unavailable" : "Rejected",
          issuer: CODEX,
          step: "poll",
          status,
          detail
        })
      assert.deepStrictEqual(kinds(checkFailure(rejected(refresh), [answer])), ["secret in message"])
      // a JWT's payload alone, and a truncated opaque token, are leaks too
      assert.deepStrictEqual(kinds(checkFailure(rejected(jwt.split(".")[1]!), [answer])), ["secret in message"])
      assert.deepStrictEqual(kinds(checkFailure(rejected(refresh.slice(0, 16)), [answer])), ["secret in message"])
      assert.deepStrictEqual(kinds(checkFailure(rejected("x".repeat(2000)), [answer])), ["message over 1 KiB"])
      // a DeviceAuthError whose message forgets to say "rate limited"
      class Terse extends DeviceAuthError {
        override get message() {
          return "too many requests"
        }
      }
      const terse = new Terse({ reason: "Unavailable", issuer: CODEX, step: "poll", status: 429 })
      assert.deepStrictEqual(kinds(checkFailure(terse, [answer])), ["429 not called rate limited"])
      assert.deepStrictEqual(kinds(checkFailure(rejected("invalid_grant"), [answer])), [])
      assert.deepStrictEqual(kinds(checkFailure(new Error("boom"), [answer])), ["untyped error"])
      assert.deepStrictEqual(kinds(causeProblems(Cause.die(new RangeError("Maximum call stack size exceeded")))), [
        "defect"
      ])
      const tokens = (access: string, expiresIn: Option.Option<Duration.Duration> = Option.none()) =>
        new TokenSet({
          accessToken: Redacted.make(access),
          idToken: Option.none(),
          refreshToken: Option.none(),
          expiresIn
        })
      assert.deepStrictEqual(kinds(checkTokens(tokens(" "))), ["blank value accepted"])
      assert.deepStrictEqual(kinds(checkTokens(tokens("at", Option.some(Duration.seconds(1e13))))), [
        "unusable duration"
      ])
      assert.deepStrictEqual(kinds(checkTokens(tokens("at", Option.some(Duration.seconds(3600))))), [])
    })
  )
})
