import { HttpClient, HttpClientResponse } from "@effect/platform"
import type { HttpClientRequest } from "@effect/platform"
import { Effect } from "effect"

/** A request the fake client saw. */
export interface Recorded {
  readonly method: string
  readonly url: string
  readonly headers: Record<string, string>
  readonly body: string
}

/** What the fake client answers. */
export interface Reply {
  readonly status: number
  readonly body?: string
  readonly headers?: Record<string, string>
}

const bodyText = (request: HttpClientRequest.HttpClientRequest): string => {
  const body = request.body
  switch (body._tag) {
    case "Uint8Array":
      return new TextDecoder().decode(body.body)
    case "Raw":
      return typeof body.body === "string" ? body.body : String(body.body)
    default:
      return ""
  }
}

/** A fake HttpClient answering each request with `reply` and recording what was sent. */
export const fakeClient = (reply: (request: Recorded) => Reply | "never") => {
  const requests: Array<Recorded> = []
  const client = HttpClient.make((request, url) => {
    const recorded: Recorded = {
      method: request.method,
      url: url.toString(),
      headers: { ...request.headers },
      body: bodyText(request)
    }
    requests.push(recorded)
    const answer = reply(recorded)
    if (answer === "never") return Effect.never
    return Effect.succeed(
      HttpClientResponse.fromWeb(
        request,
        new Response(answer.body ?? null, { status: answer.status, headers: answer.headers ?? {} })
      )
    )
  })
  return { client, requests }
}

/** A JSON answer. */
export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: typeof body === "string" ? body : JSON.stringify(body),
  headers: { "content-type": "application/json", ...headers }
})
