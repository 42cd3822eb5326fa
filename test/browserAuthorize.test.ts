import { HttpClient } from "@effect/platform"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Option, Redacted } from "effect"
import { readFileSync } from "node:fs"
import { join } from "node:path"
import {
  CODEX_BROWSER_PORT,
  CODEX_CLIENT_ID,
  CODEX_DEFAULT_ISSUER,
  codexAuthorizeUrl,
  codexBrowserRedirectUri
} from "../src/domain/CodexWire.js"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as Pkce from "../src/services/Pkce.js"
import * as TestPkce from "../src/testing/TestPkce.js"
import { fakeClient } from "./support/fakeHttp.js"

// What the real `codex login` printed (0.169.0 and 0.171.0, the same; captured with a CODEX_HOME of its own and never
// followed), its random code_challenge and state replaced by <C> and <S>.
const fixture = (name: string) => readFileSync(join(__dirname, "fixtures/codex-browser", name), "utf8")
const codexUrl = (text: string) => /^https:\/\/\S+$/m.exec(text)?.[0] ?? ""

/** A URL's parameters in order, its random values replaced by their shape. */
const shape = (url: string) =>
  [...new URL(url).searchParams].map(([name, value]) =>
    name === "code_challenge" || name === "state"
      ? [name, /^[A-Za-z0-9_-]{43}$/.test(value) || value === "<C>" || value === "<S>" ? "43 base64url" : value]
      : [name, value]
  )

describe("codex's browser login: the authorization request", () => {
  for (const version of ["0.169", "0.171"]) {
    it.effect(`has the parameters of codex ${version}'s, in its order, byte for byte but for the random values`, () =>
      Effect.gen(function* () {
        const printed = codexUrl(fixture(`login-${version}.txt`))
        const pkce = yield* Pkce.Pkce
        const codes = yield* pkce.generate
        const url = codexAuthorizeUrl({
          issuer: CODEX_DEFAULT_ISSUER,
          clientId: CODEX_CLIENT_ID,
          redirectUri: codexBrowserRedirectUri(CODEX_BROWSER_PORT),
          codeChallenge: codes.challenge,
          state: yield* pkce.state,
          allowedWorkspaceId: Option.none()
        })
        assert.deepStrictEqual(shape(url), shape(printed))
        const placeholders = url
          .replace(/code_challenge=[^&]*/, "code_challenge=<C>")
          .replace(/state=[^&]*/, "state=<S>")
        assert.strictEqual(placeholders, printed)
      }).pipe(Effect.provide(Pkce.layer))
    )
  }

  it.effect("with a forced workspace, allowed_workspace_id comes last, as codex sends it", () =>
    Effect.gen(function* () {
      const printed = fixture("authorize-url-forced-workspace-0.169.txt").trim()
      const url = codexAuthorizeUrl({
        issuer: CODEX_DEFAULT_ISSUER,
        clientId: CODEX_CLIENT_ID,
        redirectUri: codexBrowserRedirectUri(CODEX_BROWSER_PORT),
        codeChallenge: "<C>",
        state: "<S>",
        allowedWorkspaceId: Option.some("ws-123")
      })
      assert.strictEqual(decodeURIComponent(url), decodeURIComponent(printed))
      assert.deepStrictEqual(shape(url), shape(printed))
    })
  )
})

describe("CodexIssuer: the LoginFlow's authorizeUrl", () => {
  it.effect("is codex's URL at the flow's issuer, with no nonce sent, and makes no request", () =>
    Effect.gen(function* () {
      const fake = fakeClient(() => "never")
      const flow = yield* CodexIssuer.makeLoginFlow({ issuer: "http://127.0.0.1:8123/" }).pipe(
        Effect.provideService(HttpClient.HttpClient, fake.client),
        Effect.provide(Pkce.layer)
      )
      const request = {
        redirectUri: codexBrowserRedirectUri(CODEX_BROWSER_PORT),
        codeChallenge: "<C>",
        state: "<S>",
        nonce: Option.some("not-sent"),
        allowedWorkspaceId: Option.none()
      }
      const { responseIss, url } = yield* flow.authorizeUrl(request)
      assert.isTrue(Option.isNone(responseIss), "codex's redirect carries no iss")
      const printed = codexUrl(fixture("login-0.169.txt")).replace(CODEX_DEFAULT_ISSUER, "http://127.0.0.1:8123")
      assert.strictEqual(decodeURIComponent(url), decodeURIComponent(printed))
      assert.notInclude(url, "nonce")
      assert.strictEqual(fake.requests.length, 0)
    })
  )
})

describe("Pkce: a client's own values", () => {
  it.effect(
    "a verifier of 64 random bytes (86 base64url characters), its S256 challenge, a 32-byte state; new each time",
    () =>
      Effect.gen(function* () {
        const pkce = yield* Pkce.Pkce
        const [a, b] = [yield* pkce.generate, yield* pkce.generate]
        for (const codes of [a, b]) {
          const verifier = Redacted.value(codes.verifier)
          assert.match(verifier, /^[A-Za-z0-9_-]{86}$/)
          assert.strictEqual(codes.challenge, s256Challenge(verifier))
        }
        assert.notStrictEqual(Redacted.value(a.verifier), Redacted.value(b.verifier))
        const [s, t] = [yield* pkce.state, yield* pkce.state]
        assert.match(s, /^[A-Za-z0-9_-]{43}$/)
        assert.notStrictEqual(s, t)
        assert.notInclude(String(a.verifier), Redacted.value(a.verifier), "the verifier stays redacted")
      }).pipe(Effect.provide(Pkce.layer))
  )

  it.effect("TestPkce makes values of the same shape, the same in every run, and counts them", () =>
    Effect.gen(function* () {
      const testPkce = yield* TestPkce.make
      const codes = yield* testPkce.service.generate
      const state = yield* testPkce.service.state
      assert.match(Redacted.value(codes.verifier), /^[A-Za-z0-9_-]{86}$/)
      assert.strictEqual(codes.challenge, s256Challenge(Redacted.value(codes.verifier)))
      assert.match(state, /^[A-Za-z0-9_-]{43}$/)
      assert.strictEqual(Redacted.value(codes.verifier), Buffer.alloc(64, 1).toString("base64url"))
      assert.strictEqual(state, Buffer.alloc(32, 2).toString("base64url"))
      assert.strictEqual(yield* testPkce.generated, 2)
    })
  )
})
