import { Effect } from "effect"

/** A real server's answer: status, headers, raw text, and the body parsed as JSON (`{}` when it is not JSON). */
export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly json: Record<string, any>
}

/** One real `fetch`, read to the end. */
export const request = (url: string, init: RequestInit = {}): Effect.Effect<Answer> =>
  Effect.promise(async () => {
    const response = await fetch(url, init)
    const text = await response.text()
    let json: Record<string, any> = {}
    try {
      json = JSON.parse(text)
    } catch {
      json = {}
    }
    return { status: response.status, headers: response.headers, text, json }
  })

/** A POST with a form-encoded body. */
export const postForm = (url: string, body: Record<string, string>): Effect.Effect<Answer> =>
  request(url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(body).toString()
  })

/** A POST with a JSON body. */
export const postJson = (url: string, body: unknown): Effect.Effect<Answer> =>
  request(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) })

/** A real pause, for waiting on real I/O or real timers while TestClock holds Effect time. */
export const pause = (millis: number): Effect.Effect<void> =>
  Effect.promise(() => new Promise<void>((resolve) => setTimeout(resolve, millis)))
