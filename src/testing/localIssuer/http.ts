import type { IncomingMessage, ServerResponse } from "node:http"
import * as Effect from "effect/Effect"

/** An answer the issuer writes back. */
export interface Reply {
  readonly status: number
  readonly body: string
  readonly headers: Record<string, string>
}

/** A request's JSON or form body as string parameters. */
export type Params = Readonly<Record<string, string>>

const MAX_BODY = 1024 * 1024

/** A JSON answer that no cache keeps. */
export const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  body: JSON.stringify(value),
  headers: { "content-type": "application/json", "cache-control": "no-store", ...headers }
})

/** An HTML answer that no cache keeps. */
export const html = (status: number, body: string): Reply => ({
  status,
  body,
  headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" }
})

/** Codex's own endpoints nest the error: `{"error":{"code","message"}}`. */
export const codexError = (status: number, code: string, message: string): Reply =>
  json(status, { error: { code, message } })

/** RFC 6749 §5.2 error body. */
export const oauthError = (status: number, error: string, description: string): Reply =>
  json(status, { error, error_description: description })

/** Reads a JSON object or a form body into string parameters; undefined when the body is unreadable. */
export const parseParams = (raw: string, contentType: string): Params | undefined => {
  const trimmed = raw.trim()
  if (contentType.includes("json") || trimmed.startsWith("{")) {
    let value: unknown
    try {
      value = JSON.parse(trimmed === "" ? "{}" : trimmed)
    } catch {
      return undefined
    }
    if (typeof value !== "object" || value === null || Array.isArray(value)) return undefined
    const params: Record<string, string> = {}
    for (const [key, v] of Object.entries(value)) {
      if (typeof v === "string") params[key] = v
      else if (typeof v === "number" || typeof v === "boolean") params[key] = String(v)
    }
    return params
  }
  return Object.fromEntries(new URLSearchParams(raw))
}

/** Reads a request body of at most 1 MiB as UTF-8 text. */
export const readBody = (req: IncomingMessage): Effect.Effect<string, Error> =>
  Effect.async<string, Error>((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        cleanup()
        resume(Effect.fail(new Error("request body too large")))
      } else chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(Buffer.concat(chunks).toString("utf8")))
    }
    const onError = (error: Error) => {
      cleanup()
      resume(Effect.fail(error))
    }
    const cleanup = () => {
      req.off("data", onData)
      req.off("end", onEnd)
      req.off("error", onError)
    }
    req.on("data", onData)
    req.on("end", onEnd)
    req.on("error", onError)
    return Effect.sync(cleanup)
  })

/** Writes a reply unless the response is already sent or its socket is gone. */
export const write = (res: ServerResponse, reply: Reply): Effect.Effect<void> =>
  Effect.sync(() => {
    if (res.headersSent || res.destroyed) return
    res.writeHead(reply.status, { "content-length": Buffer.byteLength(reply.body), ...reply.headers })
    res.end(reply.body)
  })

/** Whose error body a path answers with: Codex's nested one or RFC 6749's. */
export type ErrorShape = "codex" | "oauth"

/** An error in the given shape. */
export const errorReply = (shape: ErrorShape, status: number, code: string, message: string): Reply =>
  shape === "oauth" ? oauthError(status, code, message) : codexError(status, code, message)
