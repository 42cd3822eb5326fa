import { writeFileSync } from "node:fs"
import { join } from "node:path"

/** A preload (`NODE_OPTIONS=--require <it>`) that writes the process's peak RSS (KiB) to $RSS_OUT when it exits. */
export const rssProbe = (dir: string): string => {
  const path = join(dir, "rss-probe.cjs")
  writeFileSync(
    path,
    `process.on("exit", () => require("node:fs").writeFileSync(process.env.RSS_OUT, String(process.resourceUsage().maxRSS)))\n`
  )
  return path
}
