import * as HttpClient from "@effect/platform/HttpClient"
import * as Clock from "effect/Clock"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { sanitize } from "../domain/Sanitize.js"

/** The URL without query or fragment, which could carry secrets. */
const safeUrl = (url: string): string => {
  try {
    const parsed = new URL(url)
    return `${parsed.origin}${parsed.pathname}${parsed.search ? "?…" : ""}`
  } catch {
    return "(invalid URL)"
  }
}

/**
 * Logs each exchange to stderr: method, URL, status and time taken, sanitised (a URL may come from a server's
 * discovery document). Headers and bodies are never logged.
 */
export const withHttpLog = (client: HttpClient.HttpClient): HttpClient.HttpClient =>
  HttpClient.transform(client, (response, request) =>
    Effect.gen(function* () {
      const started = yield* Clock.currentTimeMillis
      const exit = yield* Effect.exit(response)
      const took = (yield* Clock.currentTimeMillis) - started
      const outcome = Exit.match(exit, {
        onSuccess: (res) => String(res.status),
        onFailure: () => "no response"
      })
      yield* Console.error(sanitize(`[http] ${request.method} ${safeUrl(request.url)} -> ${outcome} (${took} ms)`))
      return yield* exit
    })
  )
