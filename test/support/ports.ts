import { Effect } from "effect"
import { createServer } from "node:net"

/** Whether a server can listen on `port` of 127.0.0.1 (it is free). */
export const portIsFree = (port: number): Effect.Effect<boolean> =>
  Effect.promise(
    () =>
      new Promise<boolean>((resolve) => {
        const probe = createServer()
        probe.once("error", () => resolve(false))
        probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)))
      })
  )
