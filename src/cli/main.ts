// The CLI's entry: the fast path (fastPath.ts) or @effect/cli's parser. Each is reached through import(), which the
// bundle turns into modules evaluated on first use, so a fast-path run never evaluates @effect/cli.
import { fastPathOf } from "./fastPath.js"

const fast = fastPathOf(process.argv.slice(2), process.env)

if (fast === undefined) void import("./fullMain.js").then((full) => full.main())
else void import("./fastMain.js").then((path) => path.main(fast))
