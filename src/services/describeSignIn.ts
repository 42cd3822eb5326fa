import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { StoreError } from "../domain/Errors.js"
import { type SignInSummary, summarizeSignIn } from "../domain/SignInSummary.js"
import { CredentialStore } from "./CredentialStore.js"

/** What `status` shows of the stored sign-in, without a secret in it. */
export interface SignInDescription {
  /** Where the sign-in lives, for people: `file /home/me/.codex/auth.json`, `memory (ephemeral)`. */
  readonly location: string
  /** Who is signed in, and how; none when nobody is. */
  readonly signIn: Option.Option<SignInSummary>
}

/** Describes the sign-in of the store in context; reads only, never the network. An unreadable one fails `Corrupt`. */
export const describeSignIn: Effect.Effect<SignInDescription, StoreError, CredentialStore> = Effect.gen(function* () {
  const store = yield* CredentialStore
  const stored = yield* store.load
  return { location: store.location, signIn: Option.flatMap(stored, summarizeSignIn) }
}).pipe(Effect.withSpan("describeSignIn"))
