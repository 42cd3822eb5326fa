import { assert, describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"
import { browserPage, chromiumAvailable, withChromium } from "./support/chromium.js"
import { type CliProcess, eventsOf, runCli, startCli } from "./support/cli.js"
import { request } from "./support/http.js"
import { portIsFree } from "./support/ports.js"
import { tempDir } from "./support/tmp.js"
import { timed } from "./support/wait.js"

// `devicecode login --browser` as a person runs it (the built CLI, no display), against LocalIssuer in both dialects:
// the sign-in page driven by a real headless Chromium (approve, deny, a forged callback), or, for the issuer's
// misbehaviours, its form POSTed as the page posts it.

type Dialect = "codex" | "rfc8628"

const dialectArgs = (dialect: Dialect, issuer: LocalIssuer.LocalIssuer): ReadonlyArray<string> =>
  dialect === "codex"
    ? ["--issuer", issuer.url]
    : ["--dialect", "rfc8628", "--issuer", issuer.url, "--client-id", issuer.oidcClientId]

const URL_LINE = /^(http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize\?\S+)$/m

/** `login --browser` on any free port with no display; its process and the URL it printed. */
const startBrowserLogin = (
  dialect: Dialect,
  issuer: LocalIssuer.LocalIssuer,
  home: string,
  extra: ReadonlyArray<string> = []
): Effect.Effect<{ readonly cli: CliProcess; readonly url: string }, never, Scope.Scope> =>
  Effect.gen(function* () {
    const cli = yield* startCli(["login", "--browser", "--port", "0", ...dialectArgs(dialect, issuer), ...extra], {
      env: { CODEX_HOME: home }
    })
    const url = extra.includes("--json")
      ? (yield* cli.waitFor(/"url":"([^"]+)"/, "stdout"))[1]!
      : (yield* cli.waitFor(URL_LINE, "stderr"))[1]!
    return { cli, url }
  })

/** `login --browser` at a new LocalIssuer, its sign-in page open in a headless Chromium. */
const atSignInPage = (dialect: Dialect) =>
  Effect.gen(function* () {
    const issuer = yield* LocalIssuer.make({ interval: "1 second" })
    const home = yield* tempDir
    const { cli, url } = yield* startBrowserLogin(dialect, issuer, home)
    const page = yield* browserPage
    yield* Effect.promise(() => page.goto(url))
    return { issuer, home, cli, page }
  })

/** The sign-in page's form, POSTed as its Approve / Deny button posts it; where the issuer sends the browser. */
const decide = (url: string, action: "approve" | "deny") =>
  Effect.map(
    request(new URL(url).origin + new URL(url).pathname, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: `${new URL(url).searchParams.toString()}&action=${action}`,
      redirect: "manual"
    }),
    (answer) => answer.headers.get("location")!
  )

/** The browser's visit to where the issuer sent it (the callback), following the callback server's redirect. */
const visit = (location: string) => request(location)

/** The file's shape: every key in order, each leaf replaced by its JSON type. */
const shapeOf = (value: unknown): unknown =>
  value === null
    ? "null"
    : Array.isArray(value)
      ? value.map(shapeOf)
      : typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, shapeOf(inner)]))
        : typeof value

/** The one sign-in file in `home` (codex: auth.json; rfc8628: the issuer's profile, auth.<profile>.json). */
const authFile = (home: string): string => {
  const files = readdirSync(home).filter((name) => /^auth(\..+)?\.json$/.test(name))
  assert.strictEqual(files.length, 1, `one sign-in file in ${home}: ${files.join(", ")}`)
  return join(home, files[0]!)
}

const readAuth = (home: string): Record<string, unknown> => JSON.parse(readFileSync(authFile(home), "utf8"))

const noSignIn = (home: string): boolean => readdirSync(home).every((name) => !/^auth(\..+)?\.json$/.test(name))

/** A device login of the same dialect at the same issuer, into a home of its own: the shape to compare with. */
const deviceLoginShape = (dialect: Dialect, issuer: LocalIssuer.LocalIssuer) =>
  Effect.gen(function* () {
    const home = yield* tempDir
    const cli = yield* startCli(["login", ...dialectArgs(dialect, issuer)], { env: { CODEX_HOME: home } })
    yield* issuer.approve(yield* issuer.nextCode)
    const result = yield* cli.exit
    assert.strictEqual(result.code, 0, result.stderr)
    return shapeOf(readAuth(home)) as Record<string, unknown>
  })

const callbackPort = (url: string) => Number(new URL(new URL(url).searchParams.get("redirect_uri")!).port)

describe.skipIf(!chromiumAvailable)(
  withChromium("login --browser in a real headless Chromium against LocalIssuer"),
  () => {
    for (const dialect of ["codex", "rfc8628"] as const) {
      it.scopedLive(
        `${dialect}: Approve → logged in; auth.json shaped as a device login's${dialect === "codex" ? ", plus OPENAI_API_KEY" : ""}`,
        () =>
          Effect.gen(function* () {
            const { cli, home, issuer, page } = yield* atSignInPage(dialect)
            yield* Effect.promise(() => Promise.all([page.waitForURL(/\/success$/), page.click("button.approve")]))
            assert.include(yield* Effect.promise(() => page.textContent("body")), "You are signed in.")
            const result = yield* cli.exit
            assert.strictEqual(result.code, 0, result.stderr)
            const to = dialect === "codex" ? "" : ` to ${issuer.url}`
            const who = dialect === "codex" ? "(plus)" : `(profile ${new URL(issuer.url).host.replace(":", "-")})`
            assert.strictEqual(result.stdout, `Successfully logged in${to} as dev@example.com ${who}\n`)
            assert.include(result.stderr, "No browser was opened: there is no display.")

            const stored = readAuth(home)
            const device = yield* deviceLoginShape(dialect, issuer)
            if (dialect === "codex") {
              assert.match(String(stored.OPENAI_API_KEY), /^sk-local-/)
              assert.deepStrictEqual(shapeOf(stored), { ...device, OPENAI_API_KEY: "string" })
              assert.strictEqual((yield* issuer.stats).tokenExchange, 1)
            } else {
              assert.isNull(stored.OPENAI_API_KEY)
              assert.deepStrictEqual(shapeOf(stored), device)
              assert.strictEqual((yield* issuer.stats).tokenExchange, 0)
            }
            assert.deepStrictEqual(Object.keys(shapeOf(stored) as object), Object.keys(device))
            // the stored access token is one the issuer signed
            const tokens = stored.tokens as Record<string, string>
            assert.isTrue((yield* issuer.verifyAccessToken(tokens.access_token!))._tag === "Some")
          })
      )

      it.scopedLive(`${dialect}: Deny → exit 1 with the provider's reason; nothing written`, () =>
        Effect.gen(function* () {
          const { cli, home, issuer, page } = yield* atSignInPage(dialect)
          yield* Effect.promise(() => page.click("button.deny"))
          const result = yield* cli.exit
          assert.strictEqual(result.code, 1, result.stderr)
          assert.include(result.stderr, "The sign-in was denied.")
          assert.isTrue(noSignIn(home))
          assert.strictEqual((yield* issuer.stats).exchange, 0)
        })
      )
    }

    it.scopedLive(
      "a forged callback (wrong state) is refused and nothing is written; Ctrl-C then exits 130 within 1 s and frees the port",
      () =>
        Effect.gen(function* () {
          const issuer = yield* LocalIssuer.make({ interval: "1 second" })
          const home = yield* tempDir
          const { cli, url } = yield* startBrowserLogin("codex", issuer, home)
          const port = callbackPort(url)
          const page = yield* browserPage
          const forged = yield* Effect.promise(() =>
            page.goto(`http://127.0.0.1:${port}/auth/callback?code=ac_forged&state=forged-state`)
          )
          assert.strictEqual(forged?.status(), 400)
          assert.strictEqual(yield* Effect.promise(() => page.textContent("body")), "State mismatch")
          assert.isTrue(noSignIn(home))
          assert.strictEqual((yield* issuer.stats).exchange, 0, "a forged callback is never exchanged")
          assert.isNull(cli.output().stdout.match(/logged in/i))

          const { millis, value: result } = yield* timed(Effect.zipRight(cli.kill("SIGINT"), cli.exit))
          assert.strictEqual(result.code, 130, result.stderr)
          assert.isBelow(millis, 1000, "Ctrl-C took a second or more")
          assert.include(result.stderr, "Login cancelled")
          assert.isTrue(yield* portIsFree(port), "the callback port is free again")
          assert.isTrue(noSignIn(home))
        })
    )
  }
)

describe("login --browser against LocalIssuer's misbehaviours (its form POSTed as the page posts it)", () => {
  it.scopedLive("codex: a failed API-key exchange still signs in, with OPENAI_API_KEY null (as codex)", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* issuer.setKnobs({ apiKeyExchange: "fail" })
      const home = yield* tempDir
      const { cli, url } = yield* startBrowserLogin("codex", issuer, home)
      const back = yield* visit(yield* decide(url, "approve"))
      assert.strictEqual(back.status, 200)
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      assert.isNull(readAuth(home).OPENAI_API_KEY)
      assert.strictEqual((yield* issuer.stats).tokenExchange, 1)
    })
  )

  it.scopedLive("a refused code exchange is told as the browser sign-in's, not a device login's; nothing written", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* issuer.setKnobs({
        faults: [
          {
            path: "/oauth/token",
            status: 400,
            body: JSON.stringify({ error: "invalid_grant", error_description: "The code is not valid." })
          }
        ]
      })
      const home = yield* tempDir
      const { cli, url } = yield* startBrowserLogin("codex", issuer, home)
      yield* visit(yield* decide(url, "approve"))
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1, result.stderr)
      assert.include(
        result.stderr,
        `Error: browser sign-in failed: ${issuer.url} returned status 400: The code is not valid.`
      )
      assert.notInclude(result.stderr, "device code exchange")
      assert.isTrue(noSignIn(home))
    })
  )

  it.scopedLive("codex: missing_codex_entitlement → exit 1 in codex's words", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      yield* issuer.setKnobs({ authorizeError: { error: "access_denied", description: "missing_codex_entitlement" } })
      const home = yield* tempDir
      const { cli, url } = yield* startBrowserLogin("codex", issuer, home)
      const page = yield* visit(yield* decide(url, "approve"))
      assert.include(page.text, "You do not have access to Codex")
      const result = yield* cli.exit
      assert.strictEqual(result.code, 1)
      assert.include(
        result.stderr,
        "Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex."
      )
      assert.isTrue(noSignIn(home))
    })
  )

  for (const [knobs, expected] of [
    [{ idTokenNonce: "wrong" }, "does not carry the nonce of this sign-in"],
    [{ idTokenNonce: "missing" }, "does not carry the nonce of this sign-in"],
    [{ authorizeIss: "wrong" }, "is not the issuer (RFC 9207: a mix-up)"],
    [{ authorizeIss: "missing" }, "the redirect carried no iss"]
  ] as const) {
    it.scopedLive(`rfc8628: ${JSON.stringify(knobs)} → exit 1 (${expected}); nothing written`, () =>
      Effect.gen(function* () {
        const issuer = yield* LocalIssuer.make({ interval: "1 second" })
        yield* issuer.setKnobs(knobs)
        const home = yield* tempDir
        const { cli, url } = yield* startBrowserLogin("rfc8628", issuer, home)
        yield* visit(yield* decide(url, "approve"))
        const result = yield* cli.exit
        assert.strictEqual(result.code, 1, result.stderr)
        assert.include(result.stderr, expected)
        assert.isTrue(noSignIn(home))
        if ("authorizeIss" in knobs) assert.strictEqual((yield* issuer.stats).exchange, 0, "never exchanged")
      })
    )
  }

  it.scopedLive("over SSH: no browser is opened; stderr names the device login and the ssh -L forward", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const cli = yield* startCli(["login", "--browser", "--port", "0", "--issuer", issuer.url], {
        env: { CODEX_HOME: home, DISPLAY: ":0", SSH_CONNECTION: "192.0.2.1 50000 192.0.2.2 22" }
      })
      const url = (yield* cli.waitFor(URL_LINE, "stderr"))[1]!
      const port = callbackPort(url)
      const hint = yield* cli.waitFor(/^No browser was opened: .*$/m, "stderr")
      assert.strictEqual(
        hint[0],
        `No browser was opened: this is an SSH session. Either run \`devicecode login\` to sign in with a device code ` +
          `from any browser, or forward the port from the computer you browse on (ssh -L ${port}:127.0.0.1:${port} ` +
          "<this host>) and open the URL there."
      )
      yield* visit(yield* decide(url, "approve"))
      assert.strictEqual((yield* cli.exit).code, 0)
    })
  )

  it.scopedLive("--json: browser, approved and logged_in events on stdout, decoded with the exported schemas", () =>
    Effect.gen(function* () {
      const issuer = yield* LocalIssuer.make({ interval: "1 second" })
      const home = yield* tempDir
      const { cli, url } = yield* startBrowserLogin("rfc8628", issuer, home, ["--json"])
      yield* visit(yield* decide(url, "approve"))
      const result = yield* cli.exit
      assert.strictEqual(result.code, 0, result.stderr)
      const events = eventsOf(result.stdout)
      assert.deepStrictEqual(
        events.map((event) => event.event),
        ["browser", "approved", "logged_in"]
      )
      const first = events[0]!
      assert.isTrue(first.event === "browser" && first.url === url && first.port === callbackPort(url))
      assert.strictEqual(result.stderr, "", "no text on stderr with --json")
    })
  )

  it.scopedLive(
    "demo --browser: a whole browser login against the embedded issuer, offline; --qr with it is a usage error",
    () =>
      Effect.gen(function* () {
        const home = yield* tempDir
        const result = yield* runCli(["demo", "--browser", "--codex-home", home])
        assert.strictEqual(result.code, 0, result.stderr)
        assert.include(result.stderr, "Starting local login server on http://localhost:")
        assert.match(result.stderr, /^Demo: approving the sign-in on http:\/\/127\.0\.0\.1:\d+\/oauth\/authorize$/m)
        assert.match(result.stdout, /^Successfully logged in as dev@example\.com \(plus\)$/m)
        assert.match(String(readAuth(home).OPENAI_API_KEY), /^sk-local-/)
        const qr = yield* runCli(["demo", "--browser", "--qr"])
        assert.strictEqual(qr.code, 2)
        assert.include(qr.stderr, "--qr is for a device code")
      })
  )

  it.scopedLive(
    "usage: --port without --browser, --browser with --qr or --with-api-key, a port out of range: exit 2",
    () =>
      Effect.gen(function* () {
        for (const [args, expected] of [
          [["--port", "1455"], "--port is the callback port of --browser"],
          [["--browser", "--qr"], "--qr is for a device code"],
          [
            ["--browser", "--with-api-key"],
            "--with-api-key stores an API key and --browser signs in through a browser"
          ],
          [["--browser", "--port", "70000"], "--port must be a whole number from 0 to 65535, not '70000'"]
        ] as const) {
          const result = yield* runCli(["login", ...args], { env: { CODEX_HOME: yield* tempDir } })
          assert.strictEqual(result.code, 2, `${args.join(" ")}: ${result.stderr}`)
          assert.include(result.stderr, expected)
        }
      })
  )
})
