import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as HttpBody from "@effect/platform/HttpBody"
import { AuthSession, type AuthSessionError, type SessionToken } from "../services/AuthSession.js"

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

// the bearer token, then the issuer's own headers (the session worked them out with the token)
const authorize = (request: HttpClientRequest.HttpClientRequest, token: SessionToken) =>
  HttpClientRequest.setHeaders(HttpClientRequest.bearerToken(request, token.accessToken), token.headers)

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
 * Wraps `client` so each request carries `Authorization: Bearer <access token>` and the headers the sign-in's issuer
 * client asks for (codex: `ChatGPT-Account-Id` of a workspace sign-in). A 401 refreshes the rejected token once and sends the request again with the new
 * one; a second 401 is returned as it came. A request with a stream body is not sent again: after the refresh its
 * 401 is returned, and the caller's next request carries the new token. The client's errors name the request as the
 * caller built it, without the credentials.
 */
export const authenticate = (client: HttpClient.HttpClient): Effect.Effect<AuthenticatedClient, never, AuthSession> =>
  Effect.map(AuthSession, (session) => {
    const execute = Effect.fn("AuthenticatedHttpClient.execute")(function* (
      request: HttpClientRequest.HttpClientRequest
    ) {
      const token = yield* session.token
      const send = (current: SessionToken) =>
        Effect.mapError(client.execute(authorize(request, current)), withCallersRequest(request))
      const response = yield* send(token)
      if (response.status !== 401) return response
      if (!replayable(request.body)) {
        yield* session.refreshAfterRejection(token.accessToken)
        return response
      }
      // Read the discarded 401 to its end so its connection goes back to the pool.
      yield* Effect.ignore(response.arrayBuffer)
      const fresh = yield* session.refreshAfterRejection(token.accessToken)
      return yield* send(fresh)
    })
    return HttpClient.makeWith(Effect.flatMap(execute), Effect.succeed<HttpClientRequest.HttpClientRequest>)
  })

/** AuthenticatedHttpClient over the ambient HttpClient and AuthSession. */
export const layer: Layer.Layer<AuthenticatedHttpClient, never, HttpClient.HttpClient | AuthSession> = Layer.effect(
  AuthenticatedHttpClient,
  Effect.flatMap(HttpClient.HttpClient, authenticate)
)
