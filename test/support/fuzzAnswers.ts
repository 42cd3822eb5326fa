import { Cause, Chunk, Exit } from "effect"
import * as fc from "fast-check"
import { fakeClient, type Recorded, type Reply } from "./fakeHttp.js"

/** The seed every fuzz property starts from, so a failure reproduces; `FUZZ_SEED` picks another. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20_260_425)

/** The size cap a response body must not pass (1 MiB). */
export const BODY_CAP = 1024 * 1024

/** The CI scan's token shapes (.ci/run). */
export const SECRET_SHAPES = /eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}\.|rt_[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9_-]{20,}/g

const JWT_HEADER = Buffer.from(JSON.stringify({ alg: "none", typ: "FUZZ" })).toString("base64url")
const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** A JWT-shaped marker secret whose payload is a readable ChatGPT id_token (so logins can complete with it). */
export const markerJwt = (n: number, accountId = "acct_fuzz"): string =>
  `${JWT_HEADER}.${base64url({
    email: "fuzz@example.com",
    exp: 4_102_444_800,
    fuzz: `FUZZSECRET-${n}`,
    "https://api.openai.com/auth": { chatgpt_plan_type: "plus", chatgpt_account_id: accountId }
  })}.RlVaWlNJR05BVFVSRQ`

/** An opaque marker refresh token, API key or device secret. */
export const markerOpaque = (kind: "rt" | "sk" | "dc", n: number): string =>
  `${kind === "sk" ? "sk-" : `${kind}_`}FUZZSECRET${n.toString(36).padStart(6, "0")}abcdefghijklmnop`

/** A marker secret of any shape. */
export const markerArb: fc.Arbitrary<string> = fc
  .tuple(fc.constantFrom("jwt", "rt", "sk", "dc"), fc.nat(1_000_000))
  .map(([kind, n]) => (kind === "jwt" ? markerJwt(n) : markerOpaque(kind as "rt" | "sk" | "dc", n)))

/** The pieces of a marker secret that must never reach a message: the whole of it, `FUZZSECRET`, a JWT's payload. */
export const leakedIn = (message: string, body: string): ReadonlyArray<string> => {
  const found: Array<string> = []
  if (message.includes("FUZZSECRET")) found.push("FUZZSECRET")
  if (message.includes(JWT_HEADER)) found.push("a marker JWT header")
  for (const match of body.matchAll(new RegExp(`${JWT_HEADER}\\.([A-Za-z0-9_-]{16})`, "g"))) {
    if (message.includes(match[1]!)) found.push("a marker JWT payload")
  }
  for (const match of message.matchAll(SECRET_SHAPES)) found.push(`a token shape ${redact(match[0])}`)
  return [...new Set(found)]
}

/** Control and format characters (and lone surrogates) escaped, so a report prints as plain text. */
export const printable = (text: string): string =>
  text.replace(
    /[\p{Cc}\p{Cf}]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/gu,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )

/** Replaces every token shape and marker in a text, so what a test prints never trips the CI secret scan. */
export const redact = (text: string): string =>
  text
    .replace(SECRET_SHAPES, "<secret>")
    .replace(/(?:rt_|sk-|dc_)?FUZZSECRET[A-Za-z0-9_-]*/g, "<secret>")
    .replace(new RegExp(`${JWT_HEADER}[A-Za-z0-9_.-]*`, "g"), "<secret>")

// ---------------------------------------------------------------------------------------------------------------------
// JSON values described, so deep and huge ones are rendered as text without being built (or stringified) as objects.

/** A JSON value to render: a primitive, an array, an object, a deep nesting or a huge string. */
export type Node =
  | { readonly t: "raw"; readonly json: string }
  | { readonly t: "arr"; readonly items: ReadonlyArray<Node> }
  | { readonly t: "obj"; readonly entries: ReadonlyArray<readonly [string, Node]> }
  | { readonly t: "deep"; readonly depth: number; readonly object: boolean }
  | { readonly t: "huge"; readonly size: number; readonly fill: string }

const raw = (value: unknown): Node => ({ t: "raw", json: JSON.stringify(value) ?? "null" })

/** Renders a node as JSON text. */
export const render = (node: Node): string => {
  switch (node.t) {
    case "raw":
      return node.json
    case "arr":
      return `[${node.items.map(render).join(",")}]`
    case "obj":
      return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}:${render(value)}`).join(",")}}`
    case "deep":
      return node.object
        ? `${'{"a":'.repeat(node.depth)}1${"}".repeat(node.depth)}`
        : "[".repeat(node.depth) + "]".repeat(node.depth)
    case "huge":
      return JSON.stringify(node.fill.repeat(Math.ceil(node.size / node.fill.length)).slice(0, node.size))
  }
}

const controlPieces = [
  "\u001b[2J",
  "\u001b]0;pwned\u0007",
  "\u001b]8;;https://evil.example\u0007link\u001b]8;;\u0007",
  "\u0000",
  "\r",
  "\n",
  "\u0007",
  "\u0008",
  "\u009b31m",
  "\u202e",
  "\u2028",
  "ok"
]

const controlString = fc.array(fc.constantFrom(...controlPieces), { minLength: 1, maxLength: 6 }).map((p) => p.join(""))

const blankString = fc.constantFrom("", " ", "\t", "\n  ", "\u00a0", "\u3000")

/** A string a hostile server may send where a string belongs. */
export const stringLeaf: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: markerArb, weight: 4 },
  { arbitrary: fc.string({ maxLength: 24 }), weight: 3 },
  { arbitrary: blankString, weight: 2 },
  { arbitrary: controlString, weight: 2 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 12 }), weight: 1 },
  {
    arbitrary: fc.constantFrom("5", "0", "-1", "1e400", "NaN", "Infinity", "0x10", " 7 ", "2026-04-25T12:34:56Z"),
    weight: 1
  }
)

const deepNode: fc.Arbitrary<Node> = fc.record({
  t: fc.constant("deep" as const),
  depth: fc.constantFrom(64, 65, 3000, 10_000, 100_000),
  object: fc.boolean()
})

const hugeFill = fc.oneof(
  fc.constant("A"),
  fc.constant("\u001b[2J"),
  markerArb.map((marker) => `${marker} `),
  fc.constant("é")
)

const hugeNode = (sizes: ReadonlyArray<number>): fc.Arbitrary<Node> =>
  fc.record({ t: fc.constant("huge" as const), size: fc.constantFrom(...sizes), fill: hugeFill })

const numberNode: fc.Arbitrary<Node> = fc
  .oneof(
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom(0, -1, 1e308, -1e308, 5e-324, 2 ** 53, 86_400_000_000)
  )
  .map(raw)

const smallJson: fc.Arbitrary<Node> = fc.jsonValue({ maxDepth: 2 }).map(raw)

/** A value of the wrong type where a string belongs. */
const wrongType: fc.Arbitrary<Node> = fc.oneof(
  numberNode,
  fc.boolean().map(raw),
  fc.constant(raw(null)),
  smallJson,
  fc.array(stringLeaf.map(raw), { maxLength: 3 }).map((items): Node => ({ t: "arr", items })),
  stringLeaf.map((s): Node => ({ t: "obj", entries: [["code", raw(s)]] }))
)

/** A value for a field: mostly strings, then wrong types, deep nestings, and (rarely) huge strings. */
export const fieldValue = (hugeWeight = 1): fc.Arbitrary<Node> =>
  fc.oneof(
    { arbitrary: stringLeaf.map(raw), weight: 30 },
    { arbitrary: wrongType, weight: 10 },
    { arbitrary: deepNode, weight: 2 },
    { arbitrary: hugeNode([20_000, 300_000]), weight: hugeWeight }
  )

// ---------------------------------------------------------------------------------------------------------------------
// Server answers.

/** What an endpoint's 2xx body holds: each field's kind, and a valid body. */
export interface EndpointShape {
  readonly fields: ReadonlyArray<string>
  readonly valid: fc.Arbitrary<Record<string, unknown>>
  /** Error codes the endpoint's caller reads. */
  readonly codes: ReadonlyArray<string>
}

const errorCodes = [
  "authorization_pending",
  "deviceauth_authorization_pending",
  "slow_down",
  "access_denied",
  "expired_token",
  "deviceauth_expired",
  "invalid_grant",
  "invalid_client",
  "unauthorized_client",
  "invalid_scope",
  "refresh_token_expired",
  "refresh_token_reused",
  "REFRESH_TOKEN_REUSED",
  "refresh_token_invalidated",
  "rate_limit_exceeded",
  "server_error"
]

const codeLeaf = (codes: ReadonlyArray<string>): fc.Arbitrary<Node> =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...codes, ...errorCodes).map(raw), weight: 4 },
    { arbitrary: fieldValue(), weight: 1 }
  )

/** The error bodies servers send: Codex's nested one, RFC 6749's, a bare code, a message, or tokens by mistake. */
const errorBody = (codes: ReadonlyArray<string>): fc.Arbitrary<Node> =>
  fc.oneof(
    fc.record({ code: codeLeaf(codes), message: fieldValue() }).map(
      ({ code, message }): Node => ({
        t: "obj",
        entries: [
          [
            "error",
            {
              t: "obj",
              entries: [
                ["code", code],
                ["message", message]
              ]
            }
          ]
        ]
      })
    ),
    fc.record({ code: codeLeaf(codes), description: fc.option(fieldValue(), { nil: undefined }) }).map(
      ({ code, description }): Node => ({
        t: "obj",
        entries: [["error", code], ...(description === undefined ? [] : [["error_description", description] as const])]
      })
    ),
    fc.record({ code: codeLeaf(codes), message: fieldValue() }).map(
      ({ code, message }): Node => ({
        t: "obj",
        entries: [
          ["code", code],
          ["message", message]
        ]
      })
    ),
    // the 500 that carries a sign-in by mistake
    fc
      .record({
        access: markerArb,
        refresh: markerArb,
        id: markerArb,
        error: fc.option(codeLeaf(codes), { nil: undefined })
      })
      .map(
        ({ access, error, id, refresh }): Node => ({
          t: "obj",
          entries: [
            ["access_token", raw(access)],
            ["refresh_token", raw(refresh)],
            ["id_token", raw(id)],
            ...(error === undefined ? [] : [["error", error] as const])
          ]
        })
      )
  )

const extraKey = fc.oneof(
  fc.constantFrom(
    "error",
    "error_description",
    "expires_in",
    "__proto__",
    "constructor",
    "toString",
    "message",
    "code"
  ),
  fc.string({ maxLength: 8 })
)

/** A body shaped like the endpoint's 2xx answer, each field kept, dropped, or replaced by anything. */
const mutatedBody = (shape: EndpointShape): fc.Arbitrary<Node> =>
  fc
    .record({
      valid: shape.valid,
      changes: fc.array(
        fc.tuple(fc.constantFrom(...shape.fields), fc.option(fieldValue(), { nil: undefined, freq: 4 })),
        { minLength: 1, maxLength: shape.fields.length + 1 }
      ),
      extras: fc.array(fc.tuple(extraKey, fieldValue(0)), { maxLength: 2 })
    })
    .map(({ changes, extras, valid }): Node => {
      const entries = new Map<string, Node>(Object.entries(valid).map(([key, value]) => [key, raw(value)]))
      for (const [field, value] of changes) {
        if (value === undefined) entries.delete(field)
        else entries.set(field, value)
      }
      return { t: "obj", entries: [...entries, ...extras] }
    })

const validBody = (shape: EndpointShape): fc.Arbitrary<Node> =>
  fc.tuple(shape.valid, fc.array(fc.tuple(extraKey, stringLeaf.map(raw)), { maxLength: 2 })).map(
    ([valid, extras]): Node => ({
      t: "obj",
      entries: [...Object.entries(valid).map(([key, value]) => [key, raw(value)] as const), ...extras]
    })
  )

const nonJson = fc.oneof(
  fc.constantFrom(
    "<html><body><h1>502 Bad Gateway</h1></body></html>",
    "<!doctype html><title>Maintenance</title>",
    "Service Unavailable",
    "null",
    "true",
    "42",
    '"a string"',
    "[]",
    "{}",
    "\ufeff{}",
    "undefined",
    "{'single': 'quotes'}"
  ),
  markerArb.map((marker) => `<html><body>token=${marker}</body></html>`),
  fc.string({ maxLength: 60 }),
  controlString
)

/** How a body is built. */
export type BodyKind =
  | "valid"
  | "mutated"
  | "error"
  | "json"
  | "text"
  | "truncated"
  | "empty"
  | "deep"
  | "oversize"
  | "odd"

/** A body of some kind, rendered. */
export const bodyArb = (shape: EndpointShape): fc.Arbitrary<{ readonly kind: BodyKind; readonly text: string }> => {
  const of = (kind: BodyKind, arb: fc.Arbitrary<string>) => arb.map((text) => ({ kind, text }))
  return fc.oneof(
    { arbitrary: of("valid", validBody(shape).map(render)), weight: 8 },
    { arbitrary: of("mutated", mutatedBody(shape).map(render)), weight: 14 },
    { arbitrary: of("error", errorBody(shape.codes).map(render)), weight: 9 },
    {
      arbitrary: of(
        "json",
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v))
      ),
      weight: 2
    },
    { arbitrary: of("text", nonJson), weight: 3 },
    {
      arbitrary: of(
        "truncated",
        fc
          .tuple(
            fc.oneof(validBody(shape), errorBody(shape.codes)).map(render),
            fc.double({ min: 0, max: 1, noNaN: true })
          )
          .map(([text, at]) => text.slice(0, Math.floor(text.length * at)))
      ),
      weight: 3
    },
    { arbitrary: of("empty", fc.constantFrom("", " ", "\n", "\r\n\r\n")), weight: 2 },
    { arbitrary: of("deep", deepNode.map(render)), weight: 2 },
    {
      arbitrary: of(
        "oversize",
        fc
          .tuple(validBody(shape), hugeNode([BODY_CAP + 1024, 3 * BODY_CAP]))
          .map(([body, pad]) =>
            render(body.t === "obj" ? { t: "obj", entries: [...body.entries, ["padding", pad]] } : body)
          )
      ),
      weight: 1
    },
    {
      arbitrary: of(
        "odd",
        fc.oneof(
          validBody(shape).map((body) => `\ufeff${render(body)}`),
          validBody(shape).map((body) => `${render(body)} trailing`),
          validBody(shape).map((body) => `[${render(body)}]`),
          validBody(shape).map((body) => `  \n${render(body)}\n  `)
        )
      ),
      weight: 2
    }
  )
}

const statusArb = fc.oneof(
  { arbitrary: fc.constant(200), weight: 14 },
  { arbitrary: fc.constantFrom(201, 202, 204, 206), weight: 2 },
  { arbitrary: fc.constantFrom(400, 401, 403, 404), weight: 8 },
  { arbitrary: fc.constant(429), weight: 3 },
  { arbitrary: fc.constantFrom(500, 502, 503, 504), weight: 4 },
  { arbitrary: fc.integer({ min: 200, max: 599 }), weight: 2 }
)

const headerText = fc.string({
  unit: fc.constantFrom(...'0123456789 -+.,:;eE aZ\tGMTWed()="/'.split("")),
  maxLength: 30
})

const retryAfterArb = fc.oneof(
  fc.constantFrom(
    "5",
    "0",
    "-1",
    "1.5",
    "abc",
    "",
    " 7 ",
    "99999999999999999999",
    "9".repeat(400),
    "1e9",
    "Wed, 21 Oct 2015 07:28:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "tomorrow",
    "5, 6",
    "0x10"
  ),
  fc.nat().map(String),
  headerText
)

const contentTypeArb = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/html; charset=utf-8",
  "text/plain",
  "application/octet-stream",
  "application/json; charset=utf-16",
  "garbage"
)

/** One server answer: a status, a body and headers (Content-Type, Retry-After, a lying Content-Length). */
export interface Answer {
  readonly status: number
  readonly kind: BodyKind
  readonly body: string
  readonly headers: Readonly<Record<string, string>>
}

/** Server answers for an endpoint of this shape. */
export const answerArb = (shape: EndpointShape): fc.Arbitrary<Answer> =>
  fc
    .record({
      status: statusArb,
      body: bodyArb(shape),
      contentType: fc.option(contentTypeArb, { freq: 5 }),
      retryAfter: fc.option(retryAfterArb, { freq: 2 }),
      contentLength: fc.option(fc.constantFrom("0", "abc", "-1", "99999999999", "1048577", "1"), { freq: 12 })
    })
    .map(({ body, contentLength, contentType, retryAfter, status }) => ({
      status,
      kind: body.kind,
      body: body.text,
      headers: {
        ...(contentType === null ? {} : { "content-type": contentType }),
        ...(retryAfter === null ? {} : { "retry-after": retryAfter }),
        ...(contentLength === null ? {} : { "content-length": contentLength })
      }
    }))

/** Draws `count` answers from an arbitrary, the same ones for the same seed. */
export const draw = <A>(arb: fc.Arbitrary<A>, count: number, seed: number): ReadonlyArray<A> =>
  fc.sample(arb, { seed, numRuns: count })

/** An answer as a `Reply` of the fake client; statuses that cannot have a body get none. */
export const toReply = (answer: Answer): Reply =>
  [204, 205, 304].includes(answer.status)
    ? { status: answer.status, headers: answer.headers }
    : { status: answer.status, body: answer.body, headers: answer.headers }

/** A fake HttpClient serving answers by a routing function, counting the generated answers it served. */
export const servingClient = (route: (request: Recorded) => Answer | Reply) => {
  const served: Array<Answer> = []
  const fake = fakeClient((request) => {
    const answer = route(request)
    if ("kind" in answer) {
      served.push(answer)
      return toReply(answer)
    }
    return answer
  })
  return { client: fake.client, requests: fake.requests, served }
}

/** Describes an answer in one line, secrets and control characters escaped. */
export const describeAnswer = (answer: Answer): string => {
  const preview = answer.body.length > 160 ? `${answer.body.slice(0, 160)}… (${answer.body.length} chars)` : answer.body
  const headers = Object.entries(answer.headers).map(([k, v]) => `${k}: ${v.length > 40 ? `${v.slice(0, 40)}…` : v}`)
  return printable(redact(`${answer.status} ${answer.kind} ${JSON.stringify(headers)} ${JSON.stringify(preview)}`))
}

/** The latest instant a Date can hold (ECMA-262 §21.4.1.1), in ms. */
const MAX_DATE_MILLIS = 8.64e15

/** Whether a lifetime read from a server can be added to now: finite, and not past the last representable date. */
export const isUsableLifetime = (millis: number): boolean =>
  Number.isFinite(millis) && millis >= 0 && Date.now() + millis <= MAX_DATE_MILLIS

/** Whether a string has no content: empty or only whitespace. */
export const isBlank = (s: string): boolean => s.trim() === ""

/** Kinds of property violation, counted separately. */
export type ViolationKind =
  | "defect"
  | "untyped error"
  | "secret in message"
  | "message over 1 KiB"
  | "429 not called rate limited"
  | "blank value accepted"
  | "oversize body accepted"
  | "unusable duration"
  | "partial write"
  | "hung"

/** One property violation, with the answers that caused it. */
export interface Violation {
  readonly kind: ViolationKind
  readonly detail: string
  readonly answers: ReadonlyArray<Answer>
}

/** The first line of a defect, for the report. */
export const defectLine = (cause: Cause.Cause<unknown>): string => {
  const defect = Cause.defects(cause).pipe((chunk) => [...chunk][0])
  const text = defect instanceof Error ? `${defect.name}: ${defect.message}` : String(defect)
  return redact(text.split("\n")[0]!.slice(0, 200))
}

/** A violation found in one case: its kind and what happened. */
export type Problem = readonly [ViolationKind, string]

/** The defects and interruptions of a failed exit: a hostile answer must end in a typed failure, nothing else. */
export const causeProblems = (cause: Cause.Cause<unknown>): ReadonlyArray<Problem> =>
  !Chunk.isEmpty(Cause.defects(cause))
    ? [["defect", defectLine(cause)]]
    : Cause.isInterrupted(cause)
      ? [["defect", "interrupted"]]
      : []

/** How a case ended, for the outcome tally: `ok`, the error's reason (or tag), or `defect`. */
export const outcomeOf = <A, E>(exit: Exit.Exit<A, E>): string => {
  if (Exit.isSuccess(exit)) return "ok"
  const [first] = failuresOf(exit)
  if (first === undefined) return "defect"
  const error = first as { readonly _tag?: unknown; readonly reason?: unknown }
  return `${String(error._tag ?? typeof first)}${error.reason === undefined ? "" : `.${String(error.reason)}`}`
}

/** The typed failures of an exit (empty for a success). */
export const failuresOf = <A, E>(exit: Exit.Exit<A, E>): ReadonlyArray<E> =>
  Exit.isFailure(exit) ? [...Cause.failures(exit.cause)] : []

/** Counts violations by kind and prints a report; returns it for an assertion message. */
export const report = (
  name: string,
  stats: {
    readonly cases: number
    readonly answers: number
    readonly seed: number
    readonly outcomes: ReadonlyMap<string, number>
  },
  violations: ReadonlyArray<Violation>
): string => {
  const byKind = new Map<ViolationKind, Array<Violation>>()
  for (const v of violations) byKind.set(v.kind, [...(byKind.get(v.kind) ?? []), v])
  const counts = [...byKind].map(([kind, all]) => `${kind}: ${all.length}`).join(", ")
  const outcomes = [...stats.outcomes]
    .sort(([, a], [, b]) => b - a)
    .map(([outcome, n]) => `${outcome} ${n}`)
    .join(", ")
  const lines = [
    `fuzz ${name}: seed ${stats.seed}, ${stats.cases} cases, ${stats.answers} server answers, ${violations.length === 0 ? "0 violations" : counts}`,
    `  outcomes: ${outcomes}`
  ]
  for (const [kind, all] of byKind) {
    for (const v of all.slice(0, 3)) {
      lines.push(`  ${kind}: ${printable(redact(v.detail))}`)
      for (const answer of v.answers.slice(-3)) lines.push(`    ← ${describeAnswer(answer)}`)
    }
  }
  const text = lines.join("\n")
  console.log(text)
  return text
}
