import * as NodeFileSystem from "@effect/platform-node/NodeFileSystem"
import * as NodePath from "@effect/platform-node/NodePath"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Layer, Option, Redacted } from "effect"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { openBrowser } from "../src/cli/openBrowser.js"
import type { ConfigError } from "../src/domain/Errors.js"
import * as DeviceCodeAuth from "../src/layers/DeviceCodeAuth.js"
import { tempDir } from "./support/tmp.js"
import { parseApiKeyInput } from "../src/domain/ApiKey.js"
import { isLoopbackHost, validateIssuerUrl } from "../src/domain/IssuerUrl.js"
import { authMethod, parseStoredAuth } from "../src/domain/StoredAuth.js"

const issuer = (value: string) => validateIssuerUrl(value, "--issuer")
const refused = (value: string): string => {
  const result = issuer(value)
  assert.isTrue(Either.isLeft(result), `${value} should be refused`)
  return Either.isLeft(result) ? result.left : ""
}

describe("issuer URLs", () => {
  it("https anywhere, http on loopback only; codex's trailing slash trimmed", () => {
    assert.deepStrictEqual(issuer("https://auth.openai.com/"), Either.right("https://auth.openai.com"))
    assert.deepStrictEqual(
      issuer("https://login.example.com/realms/dev"),
      Either.right("https://login.example.com/realms/dev")
    )
    for (const local of ["http://127.0.0.1:8080", "http://localhost:1455/", "http://[::1]:9000", "http://127.9.8.7"]) {
      assert.isTrue(Either.isRight(issuer(local)), local)
    }
  })

  it("plain http to another host is refused, saying https", () => {
    for (const value of [
      "http://example.com",
      "http://10.0.0.1:8080",
      "http://127.0.0.1.nip.io",
      "http://localhost.evil.com"
    ]) {
      const why = refused(value)
      assert.include(why, "--issuer must use https")
      assert.include(why, "loopback")
    }
  })

  it("loopback as the URL parser normalises it", () => {
    assert.isTrue(isLoopbackHost(new URL("http://127.1").hostname))
    assert.isTrue(isLoopbackHost(new URL("http://0x7f.0.0.1").hostname))
    assert.isTrue(isLoopbackHost(new URL("http://[0:0:0:0:0:0:0:1]").hostname))
    assert.isTrue(isLoopbackHost(new URL("http://LOCALHOST").hostname))
    assert.isFalse(isLoopbackHost(new URL("http://128.0.0.1").hostname))
    assert.isFalse(isLoopbackHost(new URL("http://[::2]").hostname))
  })

  it("user:pass@ is refused without repeating either", () => {
    for (const value of [
      "https://alice:hunter2@auth.example.com",
      "https://hunter2@auth.example.com",
      "ftp://alice:hunter2@x"
    ]) {
      const why = refused(value)
      assert.notInclude(why, "hunter2")
      assert.notInclude(why, "alice")
    }
    assert.include(refused("https://alice:hunter2@auth.example.com"), "user name or password")
  })

  it("a query or a fragment is refused", () => {
    assert.include(refused("https://auth.example.com/?tenant=1"), "must not have a query")
    assert.include(refused("https://auth.example.com/?"), "must not have a query")
    assert.include(refused("https://auth.example.com/#x"), "must not have a fragment")
  })

  it("spaces or control characters anywhere are refused, shown escaped", () => {
    assert.include(
      refused("https://auth.example.com/\x1b[2J"),
      'must not contain spaces or control characters, got "https://auth.example.com/\\x1b[2J"'
    )
    assert.include(refused("https://auth.example.com/a\tb"), "must not contain spaces")
    assert.include(refused("https://auth.example.com/a b"), "must not contain spaces")
    assert.include(refused("https://auth.example.com/\u202e"), "control characters")
  })

  it("not a URL, or another scheme: an https URL is asked for, and the value is shown sanitised", () => {
    assert.include(refused("auth.example.com"), '--issuer must be an https URL, got "auth.example.com"')
    assert.include(refused("ftp://example.com"), "must be an https URL")
    assert.notInclude(refused("javascript:\x1b[2J"), "\x1b")
    assert.include(refused("javascript:\x1b[2J"), "\\x1b[2J")
  })
})

describe("API keys from stdin", () => {
  const key = (input: string) => Either.map(parseApiKeyInput(input), Redacted.value)
  const reason = (input: string) =>
    Either.match(parseApiKeyInput(input), { onLeft: (e) => e.reason, onRight: () => "ok" })

  it("the white space around it is trimmed", () => {
    assert.deepStrictEqual(key("sk-proj-abc123\n"), Either.right("sk-proj-abc123"))
    assert.deepStrictEqual(key("  \tsk-proj-abc123 \r\n"), Either.right("sk-proj-abc123"))
  })

  it("empty, white space inside, or control characters: refused with a reason and no key in the message", () => {
    assert.strictEqual(reason(""), "Empty")
    assert.strictEqual(reason(" \n\t"), "Empty")
    assert.strictEqual(reason("sk-proj abc"), "Whitespace")
    assert.strictEqual(reason("sk-proj-abc\nsk-proj-def\n"), "Whitespace")
    assert.strictEqual(reason("sk-proj-\x1b[2Jabc"), "Control")
    assert.strictEqual(reason("sk-proj-\u009babc"), "Control")
    assert.strictEqual(reason("sk-proj-\u202eabc"), "Control")
    for (const input of ["sk-secret abc", "sk-secret\x00abc"]) {
      const error = parseApiKeyInput(input)
      assert.isTrue(Either.isLeft(error))
      if (Either.isLeft(error)) assert.notInclude(error.left.message, "sk-secret")
    }
  })
})

describe("odd auth.json files: what counts as logged in", () => {
  const method = (json: string) => {
    const parsed = parseStoredAuth(json)
    assert.isTrue(Either.isRight(parsed), json)
    return Either.isRight(parsed) ? Option.getOrNull(authMethod(parsed.right)) : "unparsed"
  }

  it("no usable key and no tokens is no sign-in", () => {
    assert.strictEqual(method("{}"), null)
    assert.strictEqual(method('{"auth_mode":"apikey","OPENAI_API_KEY":null}'), null)
    assert.strictEqual(method('{"OPENAI_API_KEY":""}'), null)
    assert.strictEqual(method('{"auth_mode":"apikey","OPENAI_API_KEY":"  "}'), null)
  })

  it("a key is API-key auth, with or without auth_mode", () => {
    assert.strictEqual(method('{"auth_mode":"apikey","OPENAI_API_KEY":"sk-1"}'), "apikey")
    assert.strictEqual(method('{"OPENAI_API_KEY":"sk-1"}'), "apikey")
    assert.strictEqual(method('{"OPENAI_API_KEY":null,"tokens":{"access_token":"at"}}'), "chatgpt")
  })
})

describe("DeviceCodeAuth.resolve: an app's options", () => {
  const platform = Layer.merge(NodeFileSystem.layer, NodePath.layer)

  it.scoped("an http issuer on another host is a ConfigError of reason Options, saying https", () =>
    Effect.gen(function* () {
      const codexHome = yield* tempDir
      const error = yield* Effect.flip(DeviceCodeAuth.resolve({ codexHome, issuer: "http://example.com" }))
      assert.strictEqual(error.reason, "Options")
      assert.include(error.message, "the issuer must use https")
      const credentials = yield* Effect.flip(
        DeviceCodeAuth.resolve({ codexHome, issuer: "https://alice:hunter2@example.com" })
      )
      assert.notInclude(credentials.message, "hunter2")
      const local = yield* DeviceCodeAuth.resolve({ codexHome, issuer: "http://127.0.0.1:8080/" })
      assert.strictEqual(local.target.issuer, "http://127.0.0.1:8080")
    }).pipe(Effect.provide(platform))
  )

  it.scoped("a broken config.toml fails by default; with configErrors: warn it is told once and defaults apply", () =>
    Effect.gen(function* () {
      const codexHome = yield* tempDir
      writeFileSync(join(codexHome, "config.toml"), "cli_auth_credentials_store = [\n")
      const error = yield* Effect.flip(DeviceCodeAuth.resolve({ codexHome }))
      assert.strictEqual(error.reason, "ConfigFile")
      const told: Array<ConfigError> = []
      const resolved = yield* DeviceCodeAuth.resolve({
        codexHome,
        store: "ephemeral",
        configErrors: "warn",
        onConfigWarning: (error) => Effect.sync(() => void told.push(error))
      })
      assert.strictEqual(resolved.store, "ephemeral")
      assert.deepStrictEqual(resolved.config.forcedWorkspaceIds, [])
      assert.deepStrictEqual(
        told.map((error) => error.reason),
        ["ConfigFile"]
      )
    }).pipe(Effect.provide(platform))
  )
})

describe("opening the browser", () => {
  it.effect("only an http(s) page is opened; anything else is one sanitised warning", () =>
    Effect.gen(function* () {
      const warnings: Array<string> = []
      for (const url of ["file:///etc/passwd", "javascript:alert(1)\x1b[2J", "not a url"]) {
        yield* openBrowser(url, (line) => Effect.sync(() => void warnings.push(line)))
      }
      assert.strictEqual(warnings.length, 3)
      for (const line of warnings) assert.include(line, "must be an http(s) URL")
      assert.include(warnings[1]!, "\\x1b[2J")
      assert.notInclude(warnings.join(""), "\x1b")
    })
  )
})
