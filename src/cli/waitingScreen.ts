import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberHandle from "effect/FiberHandle"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import type { LoginEvent } from "../domain/LoginEvent.js"
import { sanitize } from "../domain/Sanitize.js"
import { countdownTick } from "../services/schedules.js"
import { codeIssuedPrompt, eventLine } from "./render.js"
import { TerminalOutput } from "./terminal.js"

/** What the live status line knows besides the clock. */
export interface ScreenState {
  /** When the login gives up waiting (`CodeIssued`'s deadline). */
  readonly deadline: DateTime.Utc
  /** How many redraws came before this one: picks the spinner frame. */
  readonly frame: number
  /** The interval the server asked for with `slow_down`, once it did. */
  readonly slowedTo: Option.Option<Duration.Duration>
  /** The transient failure the next poll retries after, until a poll answers again. */
  readonly retrying: Option.Option<{ readonly detail: string; readonly delay: Duration.Duration }>
}

/** The spinner, one frame per redraw. */
export const spinnerFrames: ReadonlyArray<string> = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"]

/** Back to column 0 and erase the line: what is left once the status line is gone. */
export const clearLine = "\r\x1b[2K"

/**
 * One redraw of the status line. Line wrapping is off while it is drawn (DECAWM), so a line wider than the terminal
 * is cut instead of wrapped onto a row that the next erase would miss.
 */
export const drawLine = (text: string): string => `${clearLine}\x1b[?7l${text}\x1b[?7h`

/** What is left until `deadline` as mm:ss, rounded up: "15:00" when a 15-minute code is issued, "00:00" past it. */
export const countdown = (deadline: DateTime.Utc, now: DateTime.Utc): string => {
  const seconds = Math.max(0, Math.ceil(DateTime.distance(now, deadline) / 1000))
  const pad = (n: number) => String(n).padStart(2, "0")
  return `${pad(Math.floor(seconds / 60))}:${pad(seconds % 60)}`
}

const inSeconds = (duration: Duration.Duration) => `${Math.round(Duration.toSeconds(duration))} s`

/** The poll status part of the line: retrying beats slowed down beats waiting; the failure's detail sanitised. */
export const pollStatus = (state: ScreenState): string =>
  Option.match(state.retrying, {
    onSome: ({ delay, detail }) => `${sanitize(detail)}; retrying in ${inSeconds(delay)}`,
    onNone: () =>
      Option.match(state.slowedTo, {
        onSome: (interval) => `server asked us to slow down, polling every ${inSeconds(interval)}`,
        onNone: () => "waiting for approval (Ctrl-C to cancel)"
      })
  })

/** The exact text of the status line at `now`, without escapes: spinner, countdown and poll status. */
export const statusLine = (state: ScreenState, now: DateTime.Utc): string =>
  `${spinnerFrames[state.frame % spinnerFrames.length]} Code valid for ${countdown(state.deadline, now)} · ${pollStatus(state)}`

/** Renders a login's events on a terminal. */
export interface LoginRenderer {
  readonly onEvent: (event: LoginEvent) => Effect.Effect<void>
  /** Writes text that is not an event (a QR code, a note) without breaking the status line: it goes above it. */
  readonly print: (stream: "stdout" | "stderr", text: string) => Effect.Effect<void>
  /** Clears the status line and stops redrawing; closing the scope does it too. */
  readonly close: Effect.Effect<void>
}

/** Whether stdout takes escapes (a link, colours): colour is allowed and stdout is a terminal too. */
export const stdoutEscapes = (terminal: TerminalOutput["Type"]): boolean => terminal.color && terminal.stdoutIsTty

/**
 * The waiting screen. The prompt always goes to stdout once (when escapes are welcome on stdout, the page is an OSC 8
 * link and the prompt has codex's colours). On a terminal with colour, stderr shows one status line, drawn from the
 * first poll's answer on (so what is printed right after the prompt comes first), redrawn in place as the countdown
 * turns each second (the `countdownTick` schedule, on Effect's Clock), and cleared on approval, on failure and on
 * interruption (a finalizer of the scope). Otherwise stderr gets plain lines, one per change, with no escape codes.
 */
export const makeLoginRenderer: Effect.Effect<LoginRenderer, never, TerminalOutput | Scope.Scope> = Effect.gen(
  function* () {
    const terminal = yield* TerminalOutput
    const write = (stream: "stdout" | "stderr", text: string) => terminal[stream](text)
    const escapes = stdoutEscapes(terminal)
    const printPrompt = (event: Extract<LoginEvent, { readonly _tag: "CodeIssued" }>) =>
      Effect.flatMap(DateTime.now, (now) =>
        terminal.stdout(`${codeIssuedPrompt(event, now, { hyperlink: escapes, color: escapes })}\n`)
      )

    if (!(terminal.color && terminal.stderrIsTty)) {
      return {
        onEvent: (event) =>
          event._tag === "CodeIssued"
            ? printPrompt(event)
            : Option.match(eventLine(event), {
                onNone: () => Effect.void,
                onSome: (line) => terminal.stderr(`${line}\n`)
              }),
        print: write,
        close: Effect.void
      }
    }

    const screen = yield* Ref.make(Option.none<ScreenState>())
    const visible = yield* Ref.make(false)
    const ticker = yield* FiberHandle.make()

    const draw = Effect.gen(function* () {
      const state = yield* Ref.get(screen)
      if (Option.isNone(state)) return
      yield* terminal.stderr(drawLine(statusLine(state.value, yield* DateTime.now)))
      yield* Ref.set(visible, true)
    })
    const tick = Effect.gen(function* () {
      const advance = yield* Ref.get(visible)
      yield* Ref.update(
        screen,
        Option.map((s) => (advance ? { ...s, frame: s.frame + 1 } : s))
      )
      yield* draw
    })
    const update = (f: (state: ScreenState) => ScreenState) =>
      Effect.zipRight(
        Ref.update(screen, Option.map(f)),
        Effect.flatMap(Ref.get(visible), (shown) => (shown ? Effect.void : draw))
      )
    const close = Effect.gen(function* () {
      yield* FiberHandle.clear(ticker)
      yield* Ref.set(screen, Option.none())
      if (yield* Ref.getAndSet(visible, false)) yield* terminal.stderr(clearLine)
    })
    const print = (stream: "stdout" | "stderr", text: string) =>
      Effect.flatMap(Ref.get(visible), (shown) =>
        shown
          ? Effect.all([terminal.stderr(clearLine), write(stream, text.endsWith("\n") ? text : `${text}\n`), draw], {
              discard: true
            })
          : write(stream, text)
      )
    yield* Effect.addFinalizer(() => close)

    const onEvent = (event: LoginEvent): Effect.Effect<void> => {
      switch (event._tag) {
        case "CodeIssued":
          return Effect.gen(function* () {
            yield* printPrompt(event)
            yield* Ref.set(
              screen,
              Option.some({ deadline: event.deadline, frame: 0, slowedTo: Option.none(), retrying: Option.none() })
            )
            yield* FiberHandle.run(ticker, Effect.schedule(tick, countdownTick(event.deadline)), {
              onlyIfMissing: true
            })
          })
        case "Waiting":
          return update((state) => ({ ...state, retrying: Option.none() }))
        case "SlowedDown":
          return update((state) => ({ ...state, slowedTo: Option.some(event.interval), retrying: Option.none() }))
        case "Retrying":
          // before the code is shown (the device-code request) and after approval (the exchange) there is no
          // status line to put it on: it gets a line of its own
          return Effect.flatMap(Ref.get(screen), (state) =>
            Option.isSome(state)
              ? update((state) => ({ ...state, retrying: Option.some({ detail: event.detail, delay: event.delay }) }))
              : Option.match(eventLine(event), {
                  onNone: () => Effect.void,
                  onSome: (line) => print("stderr", `${line}\n`)
                })
          )
        case "StoreUnreadable":
        case "BrowserSignIn":
        case "Approved":
        case "StoreSetAside":
        case "ReplacedRevoked":
        case "LoggedIn":
          return Effect.zipRight(
            event._tag === "StoreUnreadable" || event._tag === "BrowserSignIn" ? Effect.void : close,
            Option.match(eventLine(event), {
              onNone: () => Effect.void,
              onSome: (line) => print("stderr", `${line}\n`)
            })
          )
      }
    }
    return { onEvent, print, close }
  }
)
