import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type * as Headers from "@effect/platform/Headers"
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { errorCode, errorDetail, sanitizeServerText } from "../domain/CodexWire.js"
import { DeviceAuthError, type DeviceAuthStep } from "../domain/Errors.js"
import { isRecord, nestedDeeperThan, nonEmpty, parseJson, wireProblem } from "../domain/Json.js"
import { VERSION } from "../version.js"
import { decodeContent } from "./contentCoding.js"

/** The fields of a {@link DeviceAuthError} an exchange fills in besides its issuer and step. */
export type ErrorFields = Omit<ConstructorParameters<typeof DeviceAuthError>[0], "issuer" | "step">

/** An HTTP answer read in full: status, headers and body text. */
export interface Answer {
  readonly status: number
  readonly headers: Headers.Headers
  readonly text: string
}

const MAX_TRANSPORT_DETAIL = 200

/** The largest answer read from a server, in bytes: 1 MiB, far above any real OAuth answer. */
export const maxResponseBytes = 1024 * 1024

/** The `User-Agent` of every request: `devicecode/<version> (<os>; <arch>) node/<version>`. */
export const userAgent = `devicecode/${VERSION} (${process.platform}; ${process.arch}) node/${process.versions.node}`

/** A 2xx status. */
export const isOk = (status: number): boolean => status >= 200 && status < 300

/** The statuses worth retrying: 429, 502, 503, 504. */
export const isTransientStatus = (status: number): boolean => [429, 502, 503, 504].includes(status)

const innermostMessage = (u: unknown, depth = 0): string | undefined => {
  if (!(u instanceof Error)) return undefined
  const deeper = depth < 4 ? innermostMessage(u.cause, depth + 1) : undefined
  return deeper ?? nonEmpty(u.message)
}

/** The `code` and message of each error on a cause chain, outermost first (a few levels deep). */
const causeChain = (u: unknown, depth = 0): ReadonlyArray<{ readonly code?: unknown; readonly message: string }> =>
  u instanceof Error
    ? [
        { code: (u as { code?: unknown }).code, message: u.message },
        ...(depth < 4 ? causeChain(u.cause, depth + 1) : [])
      ]
    : []

const trustHint =
  "; if it uses a certificate authority of its own, set NODE_EXTRA_CA_CERTS to that CA's certificate file (PEM)"

// Node's names for certificate checks that failed (tls.connect's error codes, OpenSSL's X509_V_ERR_* without the prefix)
const certificateProblems: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: `its TLS certificate is self-signed, so it cannot be trusted${trustHint}`,
  SELF_SIGNED_CERT_IN_CHAIN: `its TLS certificate comes from a self-signed certificate authority this machine does not trust${trustHint}`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: `its TLS certificate is signed by a certificate authority this machine does not trust${trustHint}`,
  UNABLE_TO_GET_ISSUER_CERT: `its TLS certificate is signed by a certificate authority this machine does not trust${trustHint}`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `its TLS certificate is signed by a certificate authority this machine does not trust${trustHint}`,
  CERT_UNTRUSTED: `its TLS certificate is not trusted${trustHint}`,
  CERT_HAS_EXPIRED: "its TLS certificate has expired; its operator has to renew it",
  CERT_NOT_YET_VALID: "its TLS certificate is not valid yet; check this machine's date and time",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another host name, so it cannot be trusted",
  CERT_REVOKED: "its TLS certificate has been revoked"
}

/**
 * A TLS connection that failed on something a retry cannot change: a certificate this machine does not accept, or a
 * server that does not speak TLS on that port (plain http addressed as https). In plain words, without OpenSSL's text.
 */
const tlsProblem = (error: HttpClientError.HttpClientError): string | undefined => {
  for (const { code, message } of causeChain(error.cause)) {
    if (typeof code !== "string") continue
    if (code in certificateProblems) return certificateProblems[code]
    if (/CERT/.test(code)) return `its TLS certificate was not accepted${trustHint}`
    const said = `${code} ${code === "EPROTO" || code.startsWith("ERR_SSL_") ? message : ""}`
    if (/wrong.version.number|packet.length.too.long|http.request/i.test(said)) {
      return "it does not speak TLS (https) on that port; if it serves plain http, give its http:// address"
    }
    if (/unsupported.protocol|protocol.version|no.protocols.available|handshake.failure|no.shared.cipher/i.test(said)) {
      return "it offers no TLS version or cipher that Node accepts, so no secure connection can be made"
    }
  }
  return undefined
}

/**
 * A request that could never be sent (a URL or body that cannot be encoded) or a TLS connection that cannot succeed:
 * retrying cannot help.
 */
const unsendable = (error: HttpClientError.HttpClientError): ErrorFields | undefined => {
  if (error.reason === "InvalidUrl") {
    return { reason: "Misconfigured", detail: "its URL is not a valid URL, so no request could be sent" }
  }
  if (error.reason === "Encode") {
    return { reason: "Misconfigured", detail: "the request could not be encoded, so none was sent" }
  }
  const tls = tlsProblem(error)
  return tls === undefined ? undefined : { reason: "Misconfigured", detail: tls }
}

// OpenSSL's own lines ("…:error:0A00010B:SSL routines:…") are no words for a person
const transportDetail = (error: HttpClientError.HttpClientError): string => {
  const cause = innermostMessage(error.cause)
  if (cause === undefined) return "network error"
  if (/SSL routines|:error:[0-9A-F]{8}:/.test(cause)) return "network error: the TLS connection failed"
  return `network error: ${sanitizeServerText(cause, MAX_TRANSPORT_DETAIL)}`
}

/** RFC 9110 §10.2.3: delta-seconds or an HTTP date, measured against the Clock. */
export const parseRetryAfter = (value: string | undefined): Effect.Effect<Option.Option<Duration.Duration>> => {
  const raw = value?.trim()
  if (raw === undefined || raw === "") return Effect.succeed(Option.none())
  if (/^\d+$/.test(raw)) return Effect.succeed(Option.some(Duration.seconds(Number(raw))))
  // an IMF-fixdate ends in "GMT", which DateTime.make would not read as a zone
  return Option.match(DateTime.make(new Date(raw)), {
    onNone: () => Effect.succeed(Option.none()),
    onSome: (date) =>
      Effect.map(Clock.currentTimeMillis, (now) =>
        Option.some(Duration.millis(Math.max(0, DateTime.toEpochMillis(date) - now)))
      )
  })
}

/** An OAuth error body (RFC 6749 §5.2): its `error` code and, when sent, its `error_description`. */
export const oauthError = (text: string): { readonly code?: string; readonly description?: string } => {
  const body = Option.getOrUndefined(parseJson(text))
  const code = errorCode(body)
  const hasDescription =
    isRecord(body) && typeof body.error_description === "string" && body.error_description.trim() !== ""
  return {
    ...(code === undefined ? {} : { code }),
    ...(hasDescription ? { description: errorDetail(text) } : {})
  }
}

/** The wire calls of one issuer, each mapped to {@link DeviceAuthError}. */
export interface Exchange {
  /** Fails with a {@link DeviceAuthError} at this issuer and step. */
  readonly fail: (step: DeviceAuthStep, fields: ErrorFields) => Effect.Effect<never, DeviceAuthError>
  /**
   * Sends a request and reads its answer; network failures and timeouts are `Unavailable`, an answer over 1 MiB or
   * nested too deeply `Malformed`.
   */
  readonly send: (
    step: DeviceAuthStep,
    request: HttpClientRequest.HttpClientRequest,
    timeout?: Duration.Duration
  ) => Effect.Effect<Answer, DeviceAuthError>
  /** Fails for a non-2xx answer no call knows better: 429/502/503/504 are `Unavailable`, the rest `Rejected`. */
  readonly classify: (step: DeviceAuthStep, answer: Answer) => Effect.Effect<never, DeviceAuthError>
  /** Decodes a JSON body with a schema; anything unreadable is `Malformed`, naming fields but never values. */
  readonly decode: <A, I>(
    step: DeviceAuthStep,
    schema: Schema.Schema<A, I>,
    answer: Answer
  ) => Effect.Effect<{ readonly value: A; readonly json: unknown }, DeviceAuthError>
}

/**
 * Builds the {@link Exchange} of an issuer over a client whose requests time out after `requestTimeout`. Every request
 * carries `headers` (a dialect's own set: RFC 8628 sends {@link userAgent}; codex's vary by call and are set on the
 * request); every answer is read up to {@link maxResponseBytes}, gzip decoded.
 */
export const makeExchange = (options: {
  readonly client: HttpClient.HttpClient
  readonly issuer: string
  readonly requestTimeout: Duration.Duration
  readonly headers?: Record<string, string>
}): Exchange => {
  const { client, issuer, requestTimeout } = options

  const fail = (step: DeviceAuthStep, fields: ErrorFields) =>
    Effect.fail(new DeviceAuthError({ ...fields, issuer, step }))

  const withHeaders = HttpClientRequest.setHeaders(options.headers ?? {})
  const tooLarge: ErrorFields = { reason: "Malformed", detail: "the answer is larger than 1 MiB" }

  // read as a stream and given up as soon as it passes the cap, so a hostile server cannot fill the memory
  const readBody = (
    step: DeviceAuthStep,
    response: HttpClientResponse.HttpClientResponse
  ): Effect.Effect<string, DeviceAuthError> =>
    Effect.suspend(() => {
      const chunks: Array<Uint8Array> = []
      let size = 0
      return response.stream.pipe(
        Stream.runForEach((chunk) => {
          size += chunk.length
          if (size > maxResponseBytes) return fail(step, tooLarge)
          chunks.push(chunk)
          return Effect.void
        }),
        Effect.flatMap(() =>
          Either.match(
            decodeContent(response.headers["content-encoding"], Buffer.concat(chunks, size), maxResponseBytes),
            {
              onRight: (bytes) => Effect.succeed(new TextDecoder().decode(bytes)),
              onLeft: (problem) =>
                fail(
                  step,
                  problem === "too large"
                    ? tooLarge
                    : {
                        reason: "Malformed",
                        detail:
                          problem === "corrupt"
                            ? "the answer's gzip encoding is corrupt"
                            : `the answer is in a content encoding devicecode does not decode (${sanitizeServerText(problem.unknown, 40)})`
                      }
                )
            }
          )
        ),
        Effect.catchTag("ResponseError", (error) =>
          error.reason === "EmptyBody"
            ? Effect.succeed("")
            : fail(step, { reason: "Unavailable", detail: transportDetail(error) })
        )
      )
    })

  const send = (
    step: DeviceAuthStep,
    request: HttpClientRequest.HttpClientRequest,
    timeout: Duration.Duration = requestTimeout
  ): Effect.Effect<Answer, DeviceAuthError> =>
    client.execute(withHeaders(request)).pipe(
      Effect.catchAll((error) =>
        fail(step, unsendable(error) ?? { reason: "Unavailable", detail: transportDetail(error) })
      ),
      Effect.flatMap((response) =>
        Effect.flatMap(readBody(step, response), (text) =>
          // refused before anything parses it: walking a deeply nested value can exhaust the stack
          /^\s*[[{]/.test(text) && nestedDeeperThan(text)
            ? fail(step, { reason: "Malformed", detail: "the answer is nested too deeply" })
            : Effect.succeed<Answer>({ status: response.status, headers: response.headers, text })
        )
      ),
      Effect.timeoutFail({
        duration: timeout,
        onTimeout: () =>
          new DeviceAuthError({
            reason: "Unavailable",
            issuer,
            step,
            detail: `no answer within ${Duration.format(timeout)}`
          })
      })
    )

  const classify = (step: DeviceAuthStep, answer: Answer): Effect.Effect<never, DeviceAuthError> =>
    Effect.gen(function* () {
      const code = errorCode(Option.getOrUndefined(parseJson(answer.text)))
      const detail = errorDetail(answer.text)
      const known = { status: answer.status, ...(code === undefined ? {} : { code }) }
      if (isTransientStatus(answer.status)) {
        const retryAfter = yield* parseRetryAfter(answer.headers["retry-after"])
        return yield* fail(step, {
          reason: "Unavailable",
          ...known,
          detail: detail === "" ? `status ${answer.status}` : `status ${answer.status}: ${detail}`,
          ...(Option.isSome(retryAfter) ? { retryAfter: retryAfter.value } : {})
        })
      }
      return yield* fail(step, { reason: "Rejected", ...known, ...(detail === "" ? {} : { detail }) })
    })

  const decode = <A, I>(step: DeviceAuthStep, schema: Schema.Schema<A, I>, answer: Answer) =>
    Option.match(parseJson(answer.text), {
      onNone: () => fail(step, { reason: "Malformed", detail: "the body is not JSON" }),
      onSome: (json) =>
        Either.match(Schema.decodeUnknownEither(schema, { errors: "all" })(json), {
          onLeft: (error) => fail(step, { reason: "Malformed", detail: wireProblem(error) }),
          onRight: (value) => Effect.succeed({ value, json })
        })
    })

  return { fail, send, classify, decode }
}
