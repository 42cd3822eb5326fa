// The CLI's entry: the fast path (fastPath.ts) or @effect/cli's parser. Each is reached through import(), which the
// bundle turns into modules evaluated on first use, so a fast-path run never evaluates @effect/cli.
import { fastPathOf } from "./fastPath.js"

/**
 * The module `load` imports, evaluated with no stack traces captured, as bin/devicecode.cjs runs the bundle's top
 * level: a stack read while modules load (effect's Utils reads one) makes V8 work out the line ends of the whole
 * bundle (~2% of a start). Error.stackTraceLimit is as it was again before the command runs.
 */
const quietly = <M>(load: () => Promise<M>): Promise<M> => {
  let limit: number | undefined
  return Promise.resolve()
    .then(() => {
      limit = Error.stackTraceLimit
      Error.stackTraceLimit = 0
    })
    .then(load)
    .finally(() => {
      if (limit !== undefined) Error.stackTraceLimit = limit
    })
}

const fast = fastPathOf(process.argv.slice(2), process.env)

if (fast === undefined) void quietly(() => import("./fullMain.js")).then((full) => full.main())
else void quietly(() => import("./fastMain.js")).then((path) => path.main(fast))
