import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { ChildProcess } from "node:child_process"
import { sanitize } from "../domain/Sanitize.js"
import { browserOpenBound } from "../services/schedules.js"

/** The exit code of a launcher, if it exits within the time a launcher takes (xdg-open may stay with the browser). */
const launcherExit = (child: ChildProcess): Effect.Effect<Option.Option<number | null>> =>
  Effect.async<number | null>((resume) => {
    if (child.exitCode !== null) return resume(Effect.succeed(child.exitCode))
    const onExit = (code: number | null) => resume(Effect.succeed(code))
    child.once("exit", onExit)
    return Effect.sync(() => void child.off("exit", onExit))
  }).pipe(Effect.timeoutOption(browserOpenBound))

/**
 * Opens `url` in the default browser with the `open` package (loaded only here). Any failure — no launcher, no
 * browser, a launcher that exits non-zero — is one warning line on stderr, never an error. The bundled CLI has no copy
 * of `open`'s own xdg-open script beside it, so `open` uses the system's xdg-open there. `printWarning` defaults to
 * stderr; a live status line passes its own, which writes above it. Only an http(s) URL is opened: the page may come
 * from the server (`verification_uri_complete`), and a `file:` or custom-scheme URL is no sign-in page.
 */
export const openBrowser = (
  url: string,
  printWarning: (line: string) => Effect.Effect<void> = Console.error
): Effect.Effect<void> => {
  const warn = (why: string) =>
    printWarning(sanitize(`Warning: could not open a browser (${why}); open ${url} yourself.`))
  const scheme = URL.canParse(url) ? new URL(url).protocol : undefined
  if (scheme !== "https:" && scheme !== "http:") {
    return printWarning(sanitize(`Warning: not opening ${url} in a browser: the sign-in page must be an http(s) URL.`))
  }
  return Effect.tryPromise(async () => {
    const { default: open } = await import("open")
    return open(url)
  }).pipe(
    Effect.flatMap(launcherExit),
    Effect.flatMap((exit) =>
      Option.match(exit, {
        onNone: () => Effect.void,
        onSome: (code) => (code === 0 || code === null ? Effect.void : warn(`the launcher exited with code ${code}`))
      })
    ),
    Effect.catchAll((error) => warn(error.cause instanceof Error ? error.cause.message : String(error.cause)))
  )
}
