import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { assert, describe, it } from "@effect/vitest"
import { DateTime, Duration, Effect, Exit, Option, type Scope } from "effect"
import { readFileSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as https from "node:https"
import type { AddressInfo } from "node:net"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import type { DeviceAuthError } from "../src/domain/Errors.js"
import { encodeStoredAuth, StoredAuth, StoredTokens } from "../src/domain/StoredAuth.js"
import { makeExchange } from "../src/layers/httpExchange.js"
import { isTransient } from "../src/services/schedules.js"
import { runCli } from "./support/cli.js"
import { oidcSignIn } from "./support/signIns.js"
import { tempDir } from "./support/tmp.js"

/**
 * TLS failures a retry cannot change — a certificate this machine does not accept, plain http addressed as https —
 * are `Misconfigured` (permanent, tried once) and said in plain words: no OpenSSL text, and for a certificate
 * authority of the issuer's own the NODE_EXTRA_CA_CERTS hint.
 */

const ISSUER = "https://issuer.test"
const OPENSSL_TEXT =
  "write EPROTO 80AC45B22C7F0000:error:0A00010B:SSL routines:ssl3_get_record:wrong version number:../deps/openssl/openssl/ssl/record/ssl3_record.c:350:\n"

/** A fixed self-signed certificate for localhost and 127.0.0.1, valid 2000–2125, with its key (test use only). */
const tlsFixture = (name: string) => readFileSync(fileURLToPath(new URL(`fixtures/tls/${name}`, import.meta.url)))
const caFile = fileURLToPath(new URL("fixtures/tls/localhost.crt", import.meta.url))

/** An Error as node:tls makes them: a message and a `code`. */
const nodeError = (code: string, message: string) => Object.assign(new Error(message), { code })

/** The error of one `send` over a client whose every request fails in transport with `cause`. */
const failureOf = (cause: unknown) =>
  Effect.gen(function* () {
    const client = HttpClient.make((request) =>
      Effect.fail(new HttpClientError.RequestError({ request, reason: "Transport", cause }))
    )
    const exchange = makeExchange({ client, issuer: ISSUER, requestTimeout: Duration.seconds(30) })
    const exit = yield* Effect.exit(exchange.send("refresh", HttpClientRequest.post(`${ISSUER}/oauth/token`)))
    if (Exit.isFailure(exit) && exit.cause._tag === "Fail") return exit.cause.error
    return assert.fail(`expected a DeviceAuthError, got ${String(exit)}`)
  })

const assertPlain = (error: DeviceAuthError) => {
  // no OpenSSL line and no error code such as DEPTH_ZERO_SELF_SIGNED_CERT (the one name in capitals is the hint's)
  assert.notMatch(error.message.replace("NODE_EXTRA_CA_CERTS", ""), /SSL routines|:error:|openssl|[A-Z]{4,}_[A-Z_]{4,}/)
  assert.isFalse(isTransient(error), "not retried")
}

const trustHint = "set NODE_EXTRA_CA_CERTS to that CA's certificate file (PEM)"

describe("TLS failures (fake client)", () => {
  for (const [code, message, words] of [
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate", "its TLS certificate is self-signed"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "self-signed certificate in certificate chain", "self-signed certificate authority"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "unable to verify the first certificate", "does not trust"],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "unable to get local issuer certificate", "does not trust"],
    ["UNABLE_TO_DECRYPT_CERT_SIGNATURE", "unable to decrypt certificate's signature", "was not accepted"]
  ] as const) {
    it.effect(`${code}: Misconfigured, in plain words, with the NODE_EXTRA_CA_CERTS hint`, () =>
      Effect.gen(function* () {
        const error = yield* failureOf(new Error("request failed", { cause: nodeError(code, message) }))
        assert.strictEqual(error.reason, "Misconfigured")
        assert.include(error.detail, words)
        assert.include(error.message, trustHint)
        assertPlain(error)
      })
    )
  }

  it.effect("an expired certificate, one for another host, one not yet valid: Misconfigured, each named", () =>
    Effect.gen(function* () {
      const expired = yield* failureOf(nodeError("CERT_HAS_EXPIRED", "certificate has expired"))
      assert.strictEqual(
        expired.message,
        `${ISSUER} cannot run this device login: its TLS certificate has expired; its operator has to renew it`
      )
      const altName = yield* failureOf(
        nodeError("ERR_TLS_CERT_ALTNAME_INVALID", "Hostname/IP does not match certificate's altnames: Host: x.")
      )
      assert.include(altName.message, "its TLS certificate is for another host name")
      const early = yield* failureOf(nodeError("CERT_NOT_YET_VALID", "certificate is not yet valid"))
      assert.include(early.message, "check this machine's date and time")
      for (const error of [expired, altName, early]) {
        assert.strictEqual(error.reason, "Misconfigured")
        assert.notInclude(error.message, "NODE_EXTRA_CA_CERTS")
        assertPlain(error)
      }
    })
  )

  it.effect("plain http addressed as https (wrong version number): Misconfigured, no OpenSSL text", () =>
    Effect.gen(function* () {
      for (const cause of [
        nodeError("EPROTO", OPENSSL_TEXT),
        nodeError("ERR_SSL_WRONG_VERSION_NUMBER", "C0:error:0A00010B:SSL routines::wrong version number"),
        nodeError("ERR_SSL_HTTP_REQUEST", "C0:error:0A00009C:SSL routines::http request")
      ]) {
        const error = yield* failureOf(cause)
        assert.strictEqual(error.reason, "Misconfigured")
        assert.strictEqual(
          error.detail,
          "it does not speak TLS (https) on that port; if it serves plain http, give its http:// address"
        )
        assertPlain(error)
      }
      const protocol = yield* failureOf(
        nodeError("ERR_SSL_UNSUPPORTED_PROTOCOL", "C0:error:0A000102:SSL routines::unsupported protocol")
      )
      assert.strictEqual(protocol.reason, "Misconfigured")
      assert.include(protocol.detail, "no TLS version or cipher")
      assertPlain(protocol)
    })
  )

  it.effect("other TLS trouble stays transient, without OpenSSL text; other network errors read as before", () =>
    Effect.gen(function* () {
      const mac = yield* failureOf(
        nodeError("EPROTO", "C0:error:0A000119:SSL routines:ssl3_get_record:decryption failed or bad record mac:\n")
      )
      assert.strictEqual(mac.reason, "Unavailable")
      assert.strictEqual(mac.detail, "network error: the TLS connection failed")
      const timeout = yield* failureOf(nodeError("ERR_TLS_HANDSHAKE_TIMEOUT", "TLS handshake timeout"))
      assert.strictEqual(timeout.reason, "Unavailable")
      const refused = yield* failureOf(nodeError("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:1"))
      assert.strictEqual(refused.reason, "Unavailable")
      assert.strictEqual(refused.detail, "network error: connect ECONNREFUSED 127.0.0.1:1")
    })
  )
})

/** A server on 127.0.0.1 that counts the connections it accepts; closed with the scope. */
const listen = <S extends http.Server | https.Server>(
  server: S
): Effect.Effect<
  { url: (scheme: string) => string; connections: () => number; requests: () => number },
  never,
  Scope.Scope
> =>
  Effect.acquireRelease(
    Effect.async<{ url: (scheme: string) => string; connections: () => number; requests: () => number }>((resume) => {
      let connections = 0
      let requests = 0
      server.on("connection", () => connections++)
      server.on("request", () => requests++)
      server.listen(0, "127.0.0.1", () => {
        const port = (server.address() as AddressInfo).port
        resume(
          Effect.succeed({
            url: (scheme) => `${scheme}://127.0.0.1:${port}`,
            connections: () => connections,
            requests: () => requests
          })
        )
      })
    }),
    () =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const selfSigned = () =>
  listen(
    https.createServer({ key: tlsFixture("localhost.key"), cert: tlsFixture("localhost.crt") }, (_, response) =>
      response.writeHead(404).end()
    )
  )

describe("TLS failures (real servers)", () => {
  it.scopedLive("a self-signed issuer over Node's client: one connection, Misconfigured with the hint", () =>
    Effect.gen(function* () {
      const server = yield* selfSigned()
      const client = yield* HttpClient.HttpClient.pipe(Effect.provide(NodeHttpClient.layer))
      const exchange = makeExchange({ client, issuer: server.url("https"), requestTimeout: Duration.seconds(10) })
      const exit = yield* Effect.exit(exchange.send("usercode", HttpClientRequest.post(`${server.url("https")}/x`)))
      assert.isTrue(Exit.isFailure(exit))
      if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
        assert.strictEqual(exit.cause.error.reason, "Misconfigured")
        assert.include(exit.cause.error.message, "its TLS certificate is self-signed")
      }
    })
  )

  it.scopedLive(
    "login against a self-signed issuer: tried once, one plain line, exit 1; NODE_EXTRA_CA_CERTS fixes it",
    () =>
      Effect.gen(function* () {
        const server = yield* selfSigned()
        const home = yield* tempDir
        const result = yield* runCli(["login", "--issuer", server.url("https")], { env: { CODEX_HOME: home } })
        assert.strictEqual(result.code, 1, result.stderr)
        assert.strictEqual(
          result.stderr,
          `Error: ${server.url("https")} cannot run this device login: its TLS certificate is self-signed, so it cannot be trusted; if it uses a certificate authority of its own, ${trustHint}\n`
        )
        assert.strictEqual(server.connections(), 1, "one attempt, no retries")
        assert.strictEqual(server.requests(), 0)

        // the hint works: with the certificate trusted, the request arrives (and the server's 404 is the answer)
        const trusted = yield* runCli(["login", "--issuer", server.url("https")], {
          env: { CODEX_HOME: home, NODE_EXTRA_CA_CERTS: caFile }
        })
        assert.strictEqual(trusted.code, 1, trusted.stderr)
        assert.notInclude(trusted.stderr, "certificate")
        assert.isAtLeast(server.requests(), 1)
      })
  )

  it.scopedLive("login against a plain http server addressed as https: tried once, one plain line, exit 1", () =>
    Effect.gen(function* () {
      const server = yield* listen(http.createServer((_, response) => response.writeHead(404).end()))
      const home = yield* tempDir
      const result = yield* runCli(["login", "--issuer", server.url("https")], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 1, result.stderr)
      assert.strictEqual(
        result.stderr,
        `Error: ${server.url("https")} cannot run this device login: it does not speak TLS (https) on that port; if it serves plain http, give its http:// address\n`
      )
      assert.strictEqual(server.connections(), 1, "one attempt, no retries")
    })
  )

  it.scopedLive("token whose refresh meets a self-signed issuer: tried once, not three more times, exit 1", () =>
    Effect.gen(function* () {
      const server = yield* selfSigned()
      const home = yield* tempDir
      const signIn = oidcSignIn(server.url("https"))
      const expired = new StoredAuth({
        ...signIn,
        tokens: Option.map(
          signIn.tokens,
          (tokens) =>
            new StoredTokens({ ...tokens, expiresAt: Option.some(DateTime.unsafeMake("2000-01-01T00:00:00Z")) })
        )
      })
      writeFileSync(join(home, "auth.p.json"), encodeStoredAuth(expired), { mode: 0o600 })
      const result = yield* runCli(["token", "--profile", "p"], { env: { CODEX_HOME: home } })
      assert.strictEqual(result.code, 1, result.stderr)
      assert.strictEqual(result.stdout, "")
      assert.include(result.stderr, "its TLS certificate is self-signed")
      assert.include(result.stderr, trustHint)
      assert.notMatch(result.stderr, /SSL routines|DEPTH_ZERO|could not reach/)
      assert.strictEqual(server.connections(), 1, "one attempt, no retries")
    })
  )
})
