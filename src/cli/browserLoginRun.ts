import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { LoginEvent } from "../domain/LoginEvent.js"
import type * as DeviceCodeAuth from "../layers/DeviceCodeAuth.js"
import { browserLogin } from "../services/browserLogin.js"
import type { CallbackServerError } from "../services/CallbackServer.js"
import type { CredentialStore } from "../services/CredentialStore.js"
import type { IssuerResolver } from "../services/IssuerResolver.js"
import type { LoginError } from "../services/login.js"
import type { LoginFlow } from "../services/LoginFlow.js"
import type { WorkspacePolicy } from "../services/WorkspacePolicy.js"
import { browserLayer, type CliLayers } from "./CliLayers.js"
import { loginRenderer, tellCancelled, tellLoggedIn } from "./loginOutcome.js"
import { openBrowser } from "./openBrowser.js"
import { type TerminalOutput, withNoColor } from "./terminal.js"

/** How `login --browser` shows itself. */
export interface BrowserLoginDisplay {
  readonly json: boolean
  readonly noColor: boolean
  /** The callback's port; the dialect's own when none is given. */
  readonly port: Option.Option<number>
  /** Whether to open a browser (where one can be); the demo's stand-in person takes the browser's part instead. */
  readonly open: boolean
  /** Runs once the URL is told (the demo's stand-in person); its lines go to stderr. */
  readonly companion?: (url: string, say: (line: string) => Effect.Effect<void>) => Effect.Effect<void>
}

/**
 * Why no browser is opened here, if none can be: an SSH session (the browser would open on the far machine, or not at
 * all), or a Linux/BSD desktop-less session (no DISPLAY or WAYLAND_DISPLAY). macOS and Windows always have one.
 */
export const noBrowserReason = (env: NodeJS.ProcessEnv, platform: NodeJS.Platform): Option.Option<string> => {
  const set = (name: string) => (env[name] ?? "") !== ""
  if (set("SSH_CONNECTION") || set("SSH_TTY")) return Option.some("this is an SSH session")
  if (platform !== "darwin" && platform !== "win32" && !set("DISPLAY") && !set("WAYLAND_DISPLAY")) {
    return Option.some("there is no display")
  }
  return Option.none()
}

/** What `login --browser` says where it opens no browser: why, and the two ways on. */
export const noBrowserText = (reason: string, port: number): string =>
  `No browser was opened: ${reason}. Either run \`devicecode login\` to sign in with a device code from any browser, ` +
  `or forward the port from the computer you browse on (ssh -L ${port}:127.0.0.1:${port} <this host>) and open the URL there.`

/**
 * `login --browser`: the {@link browserLogin} program, rendered on the terminal (codex's lines on stderr) or as NDJSON
 * with `json`. The URL is always printed and the callback always served; a browser is opened (the `open` package, a
 * failure only a warning) where one can be, and elsewhere stderr says why not and how to go on.
 */
export const browserLoginRun = (
  display: BrowserLoginDisplay
): Effect.Effect<
  void,
  LoginError | CallbackServerError,
  LoginFlow | IssuerResolver | CredentialStore | WorkspacePolicy | DeviceCodeAuth.Setup | TerminalOutput | CliLayers
> =>
  Effect.gen(function* () {
    const scope = yield* Effect.scope
    const screen = yield* loginRenderer(display.json)
    const say = (line: string) => screen.print("stderr", `${line}\n`)
    const onBrowserSignIn = (url: string, port: number): Effect.Effect<void> => {
      if (display.companion) return Effect.asVoid(Effect.forkIn(display.companion(url, say), scope))
      if (!display.open) return Effect.void
      return Option.match(noBrowserReason(process.env, process.platform), {
        onSome: (reason) => (display.json ? Effect.void : say(noBrowserText(reason, port))),
        onNone: () => Effect.asVoid(Effect.forkIn(openBrowser(url, say), scope))
      })
    }
    const onEvent = (event: LoginEvent) =>
      Effect.zipRight(
        screen.onEvent(event),
        event._tag === "BrowserSignIn" ? onBrowserSignIn(event.url, event.port) : Effect.void
      )
    const result = yield* browserLogin({
      onEvent,
      ...Option.match(display.port, { onNone: () => ({}), onSome: (port) => ({ port }) })
    }).pipe(
      Effect.provide(browserLayer),
      Effect.ensuring(screen.close),
      Effect.onInterrupt(() => tellCancelled(display.json))
    )
    yield* tellLoggedIn(result, display.json)
  }).pipe(withNoColor(display.noColor), Effect.scoped)
