import { Effect, type Scope } from "effect"
import { existsSync } from "node:fs"
import { chromium, type Page } from "playwright-core"

/** Debian's Chromium, or `DEVICECODE_CHROMIUM`: driven through playwright-core, never a downloaded browser. */
export const CHROMIUM = process.env.DEVICECODE_CHROMIUM ?? "/usr/bin/chromium"

/** Whether the browser tests can run; with DEVICECODE_REQUIRE_CHROMIUM=1 (CI) a missing Chromium fails the file. */
export const chromiumAvailable: boolean = existsSync(CHROMIUM)
if (!chromiumAvailable && process.env.DEVICECODE_REQUIRE_CHROMIUM === "1") {
  throw new Error(`no Chromium at ${CHROMIUM} (DEVICECODE_REQUIRE_CHROMIUM=1)`)
}

/** A describe block's title, with why it is skipped where there is no Chromium (test/support/skipReporter.ts). */
export const withChromium = (title: string): string =>
  chromiumAvailable ? title : `${title} — skipped: no Chromium at ${CHROMIUM}`

/** A page of a headless Chromium of its own, closed with the scope. */
export const browserPage: Effect.Effect<Page, never, Scope.Scope> = Effect.acquireRelease(
  Effect.promise(() =>
    chromium.launch({ executablePath: CHROMIUM, headless: true, args: ["--no-sandbox", "--disable-gpu"] })
  ),
  (browser) => Effect.promise(() => browser.close())
).pipe(Effect.flatMap((browser) => Effect.promise(() => browser.newPage())))
