import { Option } from "effect"
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
