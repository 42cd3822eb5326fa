import { assert, describe, it } from "@effect/vitest"
import { randomBytes } from "node:crypto"
import { type AllowedDifference, classify, staleEntries } from "./support/allowed.js"
import { compareCrossRead, compareObservations } from "./support/compare.js"
import { shapeOf } from "./support/mask.js"
import type { Observation, RecordedRequest } from "./support/observation.js"

// The comparator on its own, no codex needed: two recordings of the same device login that differ only in their
// random values compare equal, and each planted difference fails naming its field.

const ISSUER = "http://127.0.0.1:40000"
const CLIENT_ID = "app_EMoamEEZ73f0CkXaXp7hrann"

const b64 = (bytes: number) => randomBytes(bytes).toString("base64url")
const jwt = () => `eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${b64(60)}.${b64(32)}`

/** What one side's random values are in one recording. */
const randomValues = () => ({
  deviceAuthId: `deviceauth_${b64(24)}`,
  userCode: `${b64(16)
    .replace(/[^A-Z0-9]/g, "")
    .padEnd(9, "7")
    .slice(0, 4)}-${"ABCDE"}`,
  code: `ac_${b64(32)}`,
  verifier: b64(64),
  refreshToken: `rt_${b64(32)}`,
  ownerId: b64(32),
  // nanoseconds, as codex writes them (never ending in 000: chrono would have trimmed those)
  lastRefresh: `2026-12-07T02:00:08.${String(Math.floor(Math.random() * 1_000_000)).padStart(6, "0")}123Z`
})

type Random = ReturnType<typeof randomValues>

const headers = (contentType: string, body: string): ReadonlyArray<readonly [string, string]> => [
  ["content-type", contentType],
  ["accept", "*/*"],
  ["host", new URL(ISSUER).host],
  ["content-length", String(Buffer.byteLength(body))]
]

const request = (path: string, status: number, contentType: string, body: string): RecordedRequest => ({
  method: "POST",
  path,
  search: "",
  status,
  headers: headers(contentType, body),
  body
})

const exchangeForm = (r: Random) =>
  `grant_type=authorization_code&client_id=${CLIENT_ID}&code=${r.code}&redirect_uri=${encodeURIComponent(`${ISSUER}/deviceauth/callback`)}&code_verifier=${r.verifier}`

const authJson = (r: Random, tokens?: Record<string, unknown>) =>
  JSON.stringify(
    {
      auth_mode: "chatgpt",
      OPENAI_API_KEY: null,
      tokens: tokens ?? {
        id_token: jwt(),
        access_token: jwt(),
        refresh_token: r.refreshToken,
        oauth_provenance: { issuer: ISSUER, client_id: CLIENT_ID },
        login_owner_id: r.ownerId,
        account_id: "acct_local_0001"
      },
      last_refresh: r.lastRefresh
    },
    null,
    2
  )

/** A device login as codex does it, with fresh random values each call; `plant` changes it before it is returned. */
const deviceLogin = (
  home: string,
  plant: (parts: { requests: Array<RecordedRequest>; auth: string; r: Random }) => void = () => {}
): Observation => {
  const r = randomValues()
  const poll = JSON.stringify({ device_auth_id: r.deviceAuthId, user_code: r.userCode })
  const parts = {
    r,
    requests: [
      request("/api/accounts/deviceauth/usercode", 200, "application/json", JSON.stringify({ client_id: CLIENT_ID })),
      request("/api/accounts/deviceauth/token", 403, "application/json", poll),
      request("/api/accounts/deviceauth/token", 403, "application/json", poll),
      request("/api/accounts/deviceauth/token", 200, "application/json", poll),
      request("/oauth/token", 200, "application/x-www-form-urlencoded", exchangeForm(r))
    ],
    auth: authJson(r)
  }
  plant(parts)
  return {
    issuer: ISSUER,
    known: { home, account: "cli|0123456789abcdef" },
    requests: parts.requests,
    steps: [
      {
        label: "login",
        exit: 0,
        stdout: `\u001b[94m${ISSUER}/codex/device\u001b[0m\n   \u001b[94m${r.userCode}\u001b[0m\n`,
        stderr: "Successfully logged in\n",
        outcome: "all"
      }
    ],
    snapshots: [
      {
        label: "after login",
        files: [
          { path: "auth.json", type: "file", mode: 0o600, size: parts.auth.length, content: parts.auth },
          { path: "auth.json.lock", type: "file", mode: 0o600, size: 0 },
          { path: "auth.lock", type: "file", mode: 0o644, size: 0 }
        ]
      }
    ]
  }
}

const codexSide = () => deviceLogin("/tmp/codex-home")

/** The messages of the differences between codex's recording and a planted one. */
const differencesWith = (plant: Parameters<typeof deviceLogin>[1]): ReadonlyArray<string> =>
  compareObservations(codexSide(), deviceLogin("/tmp/devicecode-home", plant)).differences.map((d) => d.message)

const replaceRequest = (requests: Array<RecordedRequest>, i: number, body: string) => {
  const original = requests[i]!
  requests[i] = request(original.path, original.status as number, original.headers[0]![1], body)
}

describe("conformance comparator (no codex needed)", () => {
  it("two runs that differ only in random values compare equal, field by field", () => {
    const comparison = compareObservations(codexSide(), deviceLogin("/tmp/devicecode-home"))
    assert.deepStrictEqual(comparison.differences, [])
    assert.isAbove(comparison.fields, 40)
  })

  it("consecutive pending polls count once: how many there are is timing", () => {
    const comparison = compareObservations(
      codexSide(),
      deviceLogin("/tmp/devicecode-home", ({ requests }) => void requests.splice(1, 1))
    )
    assert.deepStrictEqual(comparison.differences, [])
  })

  it("two form fields swapped: names the request, the position and both fields", () => {
    const messages = differencesWith(({ requests, r }) =>
      replaceRequest(
        requests,
        4,
        `grant_type=authorization_code&code=${r.code}&client_id=${CLIENT_ID}&redirect_uri=${encodeURIComponent(`${ISSUER}/deviceauth/callback`)}&code_verifier=${r.verifier}`
      )
    )
    assert.strictEqual(messages.length, 1, messages.join("\n"))
    assert.match(messages[0]!, /^request 4 POST \/oauth\/token body: form field 2 is "code", codex sends "client_id"/)
  })

  it("a JSON key added to a body: names the request and the key", () => {
    const messages = differencesWith(({ requests }) =>
      replaceRequest(requests, 0, JSON.stringify({ client_id: CLIENT_ID, scope: "openid" }))
    )
    assert.deepStrictEqual(messages, [
      'request 1 POST /api/accounts/deviceauth/usercode body scope: codex sends none, devicecode sends "openid"'
    ])
  })

  it("the same JSON written with other whitespace: a bytes difference at the first byte that differs", () => {
    const messages = differencesWith(({ requests }) =>
      replaceRequest(requests, 0, JSON.stringify({ client_id: CLIENT_ID }, null, 1))
    )
    assert.strictEqual(messages.length, 1, messages.join("\n"))
    assert.match(messages[0]!, /^request 1 POST \/api\/accounts\/deviceauth\/usercode body bytes: the same JSON/)
  })

  it("a header missing: names the request and the header", () => {
    const messages = differencesWith(({ requests }) => {
      const usercode = requests[0]!
      requests[0] = { ...usercode, headers: usercode.headers.filter(([name]) => name !== "accept") }
    })
    assert.deepStrictEqual(messages, [
      'request 1 POST /api/accounts/deviceauth/usercode header accept: codex sends "*/*", devicecode sends none'
    ])
  })

  it("auth.json with its tokens keys in another order: names the object and both orders", () => {
    const messages = differencesWith((parts) => {
      parts.auth = authJson(parts.r, {
        id_token: jwt(),
        access_token: jwt(),
        refresh_token: parts.r.refreshToken,
        oauth_provenance: { issuer: ISSUER, client_id: CLIENT_ID },
        account_id: "acct_local_0001",
        login_owner_id: parts.r.ownerId
      })
    })
    assert.deepStrictEqual(messages, [
      "after login: file auth.json key order at tokens: codex orders " +
        '"id_token, access_token, refresh_token, oauth_provenance, login_owner_id, account_id", devicecode orders ' +
        '"id_token, access_token, refresh_token, oauth_provenance, account_id, login_owner_id"'
    ])
  })

  it("a random value of another shape (milliseconds for nanoseconds) is a difference; its value never is", () => {
    const messages = differencesWith((parts) => {
      parts.r.lastRefresh = "2026-12-07T02:00:08.304Z"
      parts.auth = authJson(parts.r)
    })
    assert.deepStrictEqual(messages, [
      'after login: file auth.json last_refresh: codex writes "«RFC 3339 UTC, nanoseconds (AutoSi)»", ' +
        'devicecode writes "«RFC 3339 UTC, 3 fractional digits»"'
    ])
  })

  it("a codex line devicecode does not print, and another exit code", () => {
    const devicecode = deviceLogin("/tmp/devicecode-home")
    const login = devicecode.steps[0]!
    const messages = compareObservations(codexSide(), {
      ...devicecode,
      steps: [{ ...login, exit: 1, stderr: "Logged in\n" }]
    }).differences.map((d) => d.message)
    assert.strictEqual(messages[0], 'login exit code: codex exits with "0", devicecode exits with "1"')
    assert.match(messages[1]!, /^login: codex prints "Successfully logged in" \(stderr\), devicecode does not/)
  })

  it("no secret reaches a difference's text: tokens and keys are shown by shape", () => {
    const codex = codexSide()
    const text = compareObservations(
      codex,
      deviceLogin("/tmp/devicecode-home", (parts) => (parts.auth = "{}"))
    )
      .differences.map((d) => `${d.message} ${d.codex} ${d.devicecode}`)
      .join("\n")
    assert.notMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.|rt_[A-Za-z0-9_-]{20,}|sk-[A-Za-z0-9_-]{20,}/)
    assert.include(text, "«jwt, alg HS256»")
  })

  it("shapes: a prefix is named only when it is a known one (a random value may start with s_)", () => {
    assert.strictEqual(shapeOf("rt_" + "a".repeat(43)), "«rt_ + base64url(43)»")
    assert.strictEqual(shapeOf("s_" + "a".repeat(41)), "«base64url(43)»")
    assert.strictEqual(shapeOf("2026-12-07T02:00:08.304935000Z"), "«RFC 3339 UTC, 9 fractional digits ending in 000»")
    assert.strictEqual(shapeOf("2026-12-07T02:00:08.304935Z"), "«RFC 3339 UTC, nanoseconds (AutoSi)»")
  })

  it("a cross-read that disagrees with the tool's own result names the line", () => {
    const own = { label: "status", exit: 0, stdout: "", stderr: "Logged in using ChatGPT\n", outcome: "all" as const }
    const comparison = compareCrossRead({
      tool: "codex",
      own,
      ownKnown: {},
      other: { ...own, exit: 1, stderr: "Not logged in\n" },
      otherKnown: {}
    })
    assert.deepStrictEqual(
      comparison.differences.map((d) => d.message),
      [
        "cross-read: codex status on the other tool's CODEX_HOME: exits with 1, on its own CODEX_HOME 0",
        'cross-read: codex status on the other tool\'s CODEX_HOME: stderr line 1 is "Not logged in", on its own CODEX_HOME "Logged in using ChatGPT"'
      ]
    )
  })

  it("allowed differences: an entry allows only its field, scenarios, versions and values; an unused one is stale", () => {
    const entry: AllowedDifference = {
      id: "accept-encoding-zstd",
      scenarios: ["device-login"],
      versions: ["0.171.0"],
      field: /header accept-encoding$/,
      codex: /^zstd,gzip$/,
      devicecode: /^gzip$/,
      what: "zstd",
      reason: "Node has no zstd"
    }
    const difference = {
      field: "request 1 POST /api/accounts/deviceauth/usercode header accept-encoding",
      codex: "zstd,gzip",
      devicecode: "gzip",
      message: "…"
    }
    assert.strictEqual(classify([entry], "device-login", "0.171.0", [difference]).allowed.length, 1)
    assert.strictEqual(classify([entry], "device-login", "0.169.0", [difference]).unexpected.length, 1)
    assert.strictEqual(classify([entry], "logout", "0.171.0", [difference]).unexpected.length, 1)
    assert.strictEqual(
      classify([entry], "device-login", "0.171.0", [{ ...difference, devicecode: undefined }]).unexpected.length,
      1
    )
    const ran = (used: ReadonlyArray<string>) => [{ scenario: "device-login", version: "0.171.0", used: new Set(used) }]
    assert.deepStrictEqual(staleEntries([entry], ran([])), [entry])
    assert.deepStrictEqual(staleEntries([entry], ran(["accept-encoding-zstd"])), [])
    assert.deepStrictEqual(staleEntries([entry], [{ scenario: "logout", version: "0.171.0", used: new Set() }]), [])
  })
})
