import { assert, describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { readdirSync, readFileSync, statSync } from "node:fs"
import { join } from "node:path"
import type { Page } from "playwright-core"
import * as OidcIssuer from "../src/layers/OidcIssuer.js"
import { browserPage, chromiumAvailable, withChromium } from "./support/chromium.js"
import { type CliProcess, startCli } from "./support/cli.js"
import { request } from "./support/http.js"
import { type OidcProviderHandle, startOidcProvider } from "./support/oidcProvider.js"
import { assertNoSecrets, secretsOf, tempDir } from "./support/tmp.js"

// `devicecode login --browser --dialect rfc8628` (the built CLI, no display) against oidc-provider 8, a certified
// OpenID provider, whose own sign-in and consent pages (devInteractions) a real headless Chromium goes through.

/** The authorization URL the CLI prints on a line of its own: oidc-provider's authorization_endpoint is `/auth`. */
const URL_LINE = /^(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)$/m

/** Bounds of the browser's waits: each page of the provider, and the way back to the CLI's `/success`. */
const PAGE_TIMEOUT_MS = 10_000

const jwtPayload = (jwt: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString())

const signInFiles = (home: string): ReadonlyArray<string> =>
  readdirSync(home).filter((name) => /^auth(\..+)?\.json$/.test(name))

/** The profile an rfc8628 login without --profile is stored under: the issuer's host. */
const profileOf = (issuer: string) => new URL(issuer).host.replace(":", "-")

const promise = <A>(run: () => Promise<A>) => Effect.promise(run)

/** `login --browser --port 0` at the provider; its process and the URL it printed. */
const startBrowserLogin = (
  op: OidcProviderHandle,
  home: string
): Effect.Effect<{ readonly cli: CliProcess; readonly url: URL }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const cli = yield* startCli(
      ["login", "--browser", "--port", "0", "--dialect", "rfc8628", "--issuer", op.issuer, "--client-id", op.clientId],
      { env: { CODEX_HOME: home } }
    )
    const url = new URL((yield* cli.waitFor(URL_LINE, "stderr"))[1]!)
    return { cli, url }
  })

/** A Chromium page that remembers every URL it was sent to (so the callback's query can be read afterwards). */
const trackedPage = Effect.gen(function* () {
  const page = yield* browserPage
  page.setDefaultTimeout(PAGE_TIMEOUT_MS)
  const visited: Array<URL> = []
  page.on("request", (sent) => {
    if (sent.isNavigationRequest()) visited.push(new URL(sent.url()))
  })
  return { page, visited }
})

/** The provider's sign-in page (devInteractions), opened from the printed URL. */
const openSignIn = (page: Page, url: URL) =>
  promise(async () => {
    // the provider's pages @import a web font: without a network, `load` would wait on it for nothing
    await page.goto(url.href, { waitUntil: "domcontentloaded" })
    await page.waitForSelector('form input[name="prompt"][value="login"]', { state: "attached" })
  })

/** Signs in on the provider's page as its user (any password), onto its consent page. */
const signIn = (page: Page, op: OidcProviderHandle) =>
  promise(async () => {
    await page.fill('input[name="login"]', op.user.sub)
    await page.fill('input[name="password"]', "any password")
    await Promise.all([
      page.waitForSelector('form input[name="prompt"][value="consent"]', { state: "attached" }),
      page.click('button:has-text("Sign-in")')
    ])
  })

describe.skipIf(!chromiumAvailable)(
  withChromium("login --browser (rfc8628) against oidc-provider's own pages in a real headless Chromium"),
  () => {
    it.scopedLive("discovery names /auth and RFC 9207; the client is native: any loopback port, PKCE required", () =>
      Effect.gen(function* () {
        const op = yield* startOidcProvider({ browserLogin: true })
        const discovery = (yield* request(`${op.issuer}/.well-known/openid-configuration`)).json
        assert.strictEqual(discovery.authorization_endpoint, `${op.issuer}/auth`)
        assert.isTrue(discovery.authorization_response_iss_parameter_supported)
        assert.deepStrictEqual(discovery.code_challenge_methods_supported, ["S256"])
        assert.include(discovery.grant_types_supported, "authorization_code")
        assert.deepStrictEqual(op.redirectUris, ["http://127.0.0.1/callback"])

        const authorize = (redirectUri: string, pkce: boolean) => {
          const url = new URL(discovery.authorization_endpoint)
          for (const [name, value] of [
            ["response_type", "code"],
            ["client_id", op.clientId],
            ["redirect_uri", redirectUri],
            ["scope", "openid"],
            ["state", "s"],
            ...(pkce
              ? [
                  ["code_challenge", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"],
                  ["code_challenge_method", "S256"]
                ]
              : [])
          ]) {
            url.searchParams.set(name!, value!)
          }
          return request(url.href, { redirect: "manual" })
        }
        // a port never registered is accepted (RFC 8252 §7.3): on to the provider's interaction
        const anyPort = yield* authorize("http://127.0.0.1:45678/callback", true)
        assert.strictEqual(anyPort.status, 303)
        assert.match(anyPort.headers.get("location")!, /^\/interaction\//)
        // without PKCE the request goes back to the client with an error, and the provider's iss
        const noPkce = yield* authorize("http://127.0.0.1:45678/callback", false)
        assert.strictEqual(noPkce.status, 303)
        const back = new URL(noPkce.headers.get("location")!)
        assert.strictEqual(back.origin + back.pathname, "http://127.0.0.1:45678/callback")
        assert.strictEqual(back.searchParams.get("error"), "invalid_request")
        assert.include(back.searchParams.get("error_description"), "PKCE")
        assert.strictEqual(back.searchParams.get("iss"), op.issuer)
        // another path is not the registered redirect: refused on the provider's own page
        const otherPath = yield* authorize("http://127.0.0.1:45678/elsewhere", true)
        assert.strictEqual(otherPath.status, 400)
        assert.include(otherPath.text, "invalid_redirect_uri")
        assert.include(otherPath.text, "redirect_uri did not match any of the client")
      })
    )

    it.scopedLive(
      "approved: sign in and Continue on the provider's pages → /success, exit 0, tokens stored with the nonce",
      () =>
        Effect.gen(function* () {
          const op = yield* startOidcProvider({ browserLogin: true })
          const home = yield* tempDir
          const { cli, url } = yield* startBrowserLogin(op, home)

          const params = url.searchParams
          assert.strictEqual(params.get("response_type"), "code")
          assert.strictEqual(params.get("client_id"), op.clientId)
          assert.match(params.get("redirect_uri")!, /^http:\/\/127\.0\.0\.1:\d+\/callback$/)
          assert.strictEqual(params.get("scope"), OidcIssuer.DEFAULT_SCOPE)
          assert.strictEqual(params.get("code_challenge_method"), "S256")
          for (const name of ["state", "code_challenge", "nonce"]) assert.isNotEmpty(params.get(name), name)
          const callback = new URL(params.get("redirect_uri")!)

          const { page, visited } = yield* trackedPage
          yield* openSignIn(page, url)
          yield* signIn(page, op)
          yield* promise(() =>
            Promise.all([
              page.waitForURL(`${callback.origin}/success`, { waitUntil: "domcontentloaded" }),
              page.click('button:has-text("Continue")')
            ])
          )
          assert.include(yield* promise(() => page.textContent("body")), "You are signed in.")

          // the provider sent the browser back with a code, this login's state and its own iss (RFC 9207)
          const redirect = visited.find((seen) => seen.origin === callback.origin && seen.pathname === "/callback")
          assert.isDefined(redirect, visited.map(String).join("\n"))
          assert.isNotEmpty(redirect!.searchParams.get("code"))
          assert.strictEqual(redirect!.searchParams.get("state"), params.get("state"))
          assert.strictEqual(redirect!.searchParams.get("iss"), op.issuer)

          const result = yield* cli.exit.pipe(Effect.timeout("10 seconds"))
          assert.strictEqual(result.code, 0, result.stderr)
          const profile = profileOf(op.issuer)
          assert.strictEqual(
            result.stdout,
            `Successfully logged in to ${op.issuer} as ${op.user.email} (profile ${profile})\n`
          )
          assert.include(result.stderr, `Starting local login server on http://localhost:${callback.port}.`)

          assert.deepStrictEqual(signInFiles(home), [`auth.${profile}.json`])
          const file = join(home, `auth.${profile}.json`)
          assert.strictEqual(statSync(file).mode & 0o777, 0o600)
          const text = readFileSync(file, "utf8")
          const stored = JSON.parse(text)
          assert.strictEqual(stored.auth_mode, "oidc")
          assert.isNull(stored.OPENAI_API_KEY)
          assert.deepStrictEqual(stored.devicecode, {
            dialect: "rfc8628",
            issuer: op.issuer,
            client_id: op.clientId,
            scope: OidcIssuer.DEFAULT_SCOPE
          })
          // a refresh token: offline_access was granted, as devicecode asked with prompt=consent (OpenID Connect Core
          // §11; the harness issues one for an authorization code only then, as oidc-provider does by default)
          for (const token of ["id_token", "access_token", "refresh_token"]) {
            assert.isString(stored.tokens[token], token)
            assert.isNotEmpty(stored.tokens[token], token)
          }
          assert.match(stored.tokens.expires_at, /^\d{4}-/)
          const claims = jwtPayload(stored.tokens.id_token)
          assert.strictEqual(claims.nonce, params.get("nonce"))
          assert.strictEqual(claims.iss, op.issuer)
          assert.strictEqual(claims.aud, op.clientId)
          assert.strictEqual(claims.sub, op.user.sub)
          assert.strictEqual(claims.email, op.user.email)

          // one code exchange at the token endpoint, and no device flow
          const calls = yield* op.requests
          assert.strictEqual(calls.filter((seen) => seen.method === "POST" && seen.path === "/token").length, 1)
          assert.isFalse(calls.some((seen) => seen.path === "/device/auth"))
          assertNoSecrets([result.stdout, result.stderr], secretsOf(text))
        })
    )

    for (const where of ["sign-in", "consent"] as const) {
      it.scopedLive(
        `aborted at the provider's ${where} page ([ Cancel ]): exit 1 with its description, nothing written`,
        () =>
          Effect.gen(function* () {
            const op = yield* startOidcProvider({ browserLogin: true })
            const home = yield* tempDir
            const { cli, url } = yield* startBrowserLogin(op, home)
            const callback = new URL(url.searchParams.get("redirect_uri")!)

            const { page, visited } = yield* trackedPage
            yield* openSignIn(page, url)
            if (where === "consent") yield* signIn(page, op)
            yield* promise(() =>
              Promise.all([
                page.waitForURL((at) => at.origin === callback.origin && at.pathname === "/callback", {
                  waitUntil: "domcontentloaded"
                }),
                page.click('a:has-text("[ Cancel ]")')
              ])
            )
            const redirect = visited.find((seen) => seen.origin === callback.origin && seen.pathname === "/callback")!
            assert.strictEqual(redirect.searchParams.get("error"), "access_denied")
            assert.strictEqual(redirect.searchParams.get("error_description"), "End-User aborted interaction")
            assert.strictEqual(redirect.searchParams.get("iss"), op.issuer)
            assert.include(yield* promise(() => page.textContent("body")), "End-User aborted interaction")

            const result = yield* cli.exit.pipe(Effect.timeout("10 seconds"))
            assert.strictEqual(result.code, 1, result.stderr)
            assert.include(result.stderr, `the sign-in was denied at ${op.issuer}: End-User aborted interaction`)
            assert.notInclude(result.stdout, "Successfully logged in")
            assert.deepStrictEqual(signInFiles(home), [])
            const calls = yield* op.requests
            assert.isFalse(
              calls.some((seen) => seen.path === "/token"),
              "no code was exchanged"
            )
          })
      )
    }
  }
)
