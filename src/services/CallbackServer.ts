import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"

/** The callback server could not listen on its port (taken, or not allowed). */
export class CallbackServerError extends Data.TaggedError("CallbackServerError")<{
  readonly port: number
  readonly detail: string
  /** Another program holds the port (and did not give way when asked to `/cancel`). */
  readonly taken: boolean
}> {
  override get message(): string {
    return this.taken
      ? `could not serve the login callback on 127.0.0.1:${this.port}: the port is taken by another program (${this.detail}): free it, or use another port`
      : `could not serve the login callback on 127.0.0.1:${this.port}: ${this.detail}`
  }
}

/** How a login answers a callback request: send the browser on, or show it a page. */
export type CallbackAnswer = Data.TaggedEnum<{
  /** A 302 to `location` (codex: its `/success` page once the sign-in is saved). */
  Redirect: { readonly location: string }
  /** A page of `status` (an error page, `State mismatch`), as HTML or plain text. */
  Page: { readonly status: number; readonly body: string; readonly html: boolean }
}>

/** Constructors and matchers for {@link CallbackAnswer}. */
export const CallbackAnswer = Data.taggedEnum<CallbackAnswer>()

/** A request that reached the callback path, waiting for the login to answer it. */
export interface CallbackRequest {
  /** Its query parameters, the first value of each. */
  readonly params: ReadonlyMap<string, string>
  /** Answers the browser; a request not answered within `answerBound` gets a 503. */
  readonly respond: (answer: CallbackAnswer) => Effect.Effect<void>
}

/** One open callback server, for the scope it was opened in. */
export interface OpenCallbackServer {
  /** The port it listens on (the one asked for, or the free one it was given for 0). */
  readonly port: number
  /** The next request to the callback path, in the order they came. */
  readonly next: Effect.Effect<CallbackRequest>
  /** Succeeds once another login asked this one to give way (`GET /cancel`, as codex's logins do). */
  readonly cancelled: Effect.Effect<void>
  /** Succeeds once `/success` was served: a login that sent the browser there waits for it before it closes. */
  readonly successServed: Effect.Effect<void>
}

/** What {@link CallbackServer} opens. */
export interface CallbackServerOptions {
  /** 0: any free port. */
  readonly port: number
  /** The redirect URI's path: codex's `/auth/callback`, RFC 8252's `/callback`. */
  readonly callbackPath: string
  /** The page `GET /success` serves (where a login sends the browser once it is done). */
  readonly successPage: string
  /** How long a callback request waits for the login's answer (default 2 minutes: an exchange, a save). */
  readonly answerBound?: Duration.DurationInput
}

/** Serves a browser login's redirect on loopback for a scope (live: `NodeCallbackServer`). */
export class CallbackServer extends Context.Tag("devicecode/CallbackServer")<
  CallbackServer,
  {
    readonly open: (
      options: CallbackServerOptions
    ) => Effect.Effect<OpenCallbackServer, CallbackServerError, Scope.Scope>
  }
>() {}
