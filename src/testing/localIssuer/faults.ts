import type { ServerResponse } from "node:http"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { parseJson } from "../../domain/Json.js"
import type { Reply } from "./http.js"
import type { Fault } from "./types.js"

/** Spends one use of the first fault queued for `path`: the fault, if any, and the queue left after it. */
export const takeFault = (
  faults: ReadonlyArray<Fault>,
  path: string
): readonly [fault: Fault | undefined, left: ReadonlyArray<Fault>] => {
  const index = faults.findIndex((fault) => fault.path === path)
  if (index < 0) return [undefined, faults]
  const fault = faults[index]!
  const times = (fault.times ?? 1) - 1
  const left = [...faults]
  if (times > 0) left[index] = { ...fault, times }
  else left.splice(index, 1)
  return [fault, left]
}

/** The answer of a fault that neither hangs nor resets: its status (500), body and headers over a guessed type. */
export const faultReply = (fault: Fault): Reply => {
  const body = fault.body ?? JSON.stringify({ error: { code: "injected_fault", message: "Injected fault." } })
  return {
    status: fault.status ?? 500,
    body,
    headers: {
      "content-type": Option.isSome(parseJson(body)) ? "application/json" : "text/plain; charset=utf-8",
      ...fault.headers
    }
  }
}

/** Whether a fault streams its body (`bodyBytes`) or drips it (`dripMillis`) rather than writing it at once. */
export const isStreamed = (fault: Fault): boolean => fault.bodyBytes !== undefined || fault.dripMillis !== undefined

const STREAM_CHUNK = 64 * 1024
const FILLER = Buffer.alloc(STREAM_CHUNK, "a")
const STREAMED_PREFIX = '{"error":{"code":"injected_fault","message":"'

/** Waits until the response can take more (`drain`), or its socket is gone; true while it can still be written. */
const writable = (res: ServerResponse): Effect.Effect<boolean> =>
  Effect.async<boolean>((resume) => {
    if (res.destroyed || res.writableEnded) return resume(Effect.succeed(false))
    if (!res.writableNeedDrain) return resume(Effect.succeed(true))
    const onDrain = () => done(true)
    const onClose = () => done(false)
    const done = (open: boolean) => {
      res.off("drain", onDrain)
      res.off("close", onClose)
      resume(Effect.succeed(open))
    }
    res.on("drain", onDrain)
    res.on("close", onClose)
    return Effect.sync(() => {
      res.off("drain", onDrain)
      res.off("close", onClose)
    })
  })

/**
 * Writes the answer of a streamed or dripping fault: status and headers at once, then the body piece by piece, with
 * backpressure, until it is all sent or the client hangs up. A huge body is made of one reused filler chunk.
 */
export const streamFault = (res: ServerResponse, fault: Fault): Effect.Effect<void> =>
  Effect.gen(function* () {
    if (res.headersSent || res.destroyed) return
    const prefix = Buffer.from(fault.body ?? (fault.bodyBytes === undefined ? faultReply(fault).body : STREAMED_PREFIX))
    const total = fault.bodyBytes ?? prefix.length
    const piece = fault.dripMillis === undefined ? STREAM_CHUNK : Math.max(1, fault.dripBytes ?? 1)
    res.writeHead(fault.status ?? 500, {
      "content-type": "application/json",
      // a drip's length is known, so the client waits for every byte; a streamed body has none, as a hostile server
      ...(fault.bodyBytes === undefined ? { "content-length": String(total) } : {}),
      ...fault.headers
    })
    res.flushHeaders()
    let sent = 0
    while (sent < total) {
      if (!(yield* writable(res))) return
      const size = Math.min(piece, total - sent)
      const chunk =
        sent < prefix.length
          ? prefix.subarray(sent, Math.min(prefix.length, sent + size))
          : FILLER.subarray(0, Math.min(size, STREAM_CHUNK))
      res.write(chunk)
      sent += chunk.length
      if (fault.dripMillis !== undefined) yield* Effect.sleep(Duration.millis(fault.dripMillis))
    }
    if (!res.destroyed) res.end()
  })
