import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as HttpBody from "@effect/platform/HttpBody"
import type * as Redacted from "effect/Redacted"
import { AuthSession, type AuthSessionError, type SessionAccount } from "../services/AuthSession.js"

/** An HttpClient whose requests carry the session's credentials; it also fails with the session's errors. */
export type AuthenticatedClient = HttpClient.HttpClient.With<HttpClientError.HttpClientError | AuthSessionError>

/**
 * The client for an app's API calls, signed in through AuthSession. A Tag of its own, so the plain HttpClient stays
 * free of credentials for public calls.
 */
export class AuthenticatedHttpClient extends Context.Tag("devicecode/AuthenticatedHttpClient")<
  AuthenticatedHttpClient,
  AuthenticatedClient
>() {}

// A stream (or an opaque raw) body is consumed by the first send, so its request cannot be sent again.
const replayable = (body: HttpBody.HttpBody): boolean => {
  switch (body._tag) {
    case "Stream":
      return false
    case "Raw":
      return typeof body.body === "string" || body.body instanceof Uint8Array
    default:
      return true
  }
}

const authorize = (
  request: HttpClientRequest.HttpClientRequest,
  token: Redacted.Redacted<string>,
  account: SessionAccount
): HttpClientRequest.HttpClientRequest => {
  const withToken = HttpClientRequest.bearerToken(request, token)
  return account.dialect === "codex" && Option.isSome(account.accountId)
    ? HttpClientRequest.setHeader(withToken, "ChatGPT-Account-Id", account.accountId.value)
    : withToken
}

// The request as sent holds the token: an error names the caller's request instead.
const withCallersRequest =
  (request: HttpClientRequest.HttpClientRequest) =>
  (error: HttpClientError.HttpClientError): HttpClientError.HttpClientError => {
    const description = error.description === undefined ? {} : { description: error.description }
    return error._tag === "RequestError"
      ? new HttpClientError.RequestError({ request, reason: error.reason, cause: error.cause, ...description })
      : new HttpClientError.ResponseError({
          request,
          response: error.response,
          reason: error.reason,
          cause: error.cause,
          ...description
        })
  }

/**
 * Wraps `client` so each request carries `Authorization: Bearer <access token>` and, for a Codex sign-in with an
 * account, `ChatGPT-Account-Id`. A 401 refreshes the rejected token once and sends the request again with the new
 * one; a second 401 is returned as it came. A request with a stream body is not sent again: after the refresh its
 * 401 is returned, and the caller's next request carries the new token. The client's errors name the request as the
 * caller built it, without the credentials.
 */
export const authenticate = (client: HttpClient.HttpClient): Effect.Effect<AuthenticatedClient, never, AuthSession> =>
  Effect.map(AuthSession, (session) => {
    const execute = Effect.fn("AuthenticatedHttpClient.execute")(function* (
      request: HttpClientRequest.HttpClientRequest
    ) {
      const token = yield* session.accessToken
      const account = yield* session.account
      const send = (bearer: Redacted.Redacted<string>) =>
        Effect.mapError(client.execute(authorize(request, bearer, account)), withCallersRequest(request))
      const response = yield* send(token)
      if (response.status !== 401) return response
      if (!replayable(request.body)) {
        yield* session.refreshAfterRejection(token)
        return response
      }
      // Read the discarded 401 to its end so its connection goes back to the pool.
      yield* Effect.ignore(response.arrayBuffer)
      const fresh = yield* session.refreshAfterRejection(token)
      return yield* send(fresh)
    })
    return HttpClient.makeWith(Effect.flatMap(execute), Effect.succeed<HttpClientRequest.HttpClientRequest>)
  })

/** AuthenticatedHttpClient over the ambient HttpClient and AuthSession. */
export const layer: Layer.Layer<AuthenticatedHttpClient, never, HttpClient.HttpClient | AuthSession> = Layer.effect(
  AuthenticatedHttpClient,
  Effect.flatMap(HttpClient.HttpClient, authenticate)
)
