import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { CODEX_CLIENT_ID, codexEndpoints } from "../domain/CodexWire.js"
import { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import { s256Challenge } from "../domain/Pkce.js"
import { TokenSet } from "../domain/TokenSet.js"
import * as CodexIssuer from "../layers/CodexIssuer.js"
import * as OidcIssuer from "../layers/OidcIssuer.js"
import { DEFAULT_SCOPE } from "../layers/OidcIssuer.js"
import { AuthorizationGrant, DeviceAuthorization, PollResult } from "../services/DeviceAuthorization.js"

/** One scripted answer to a poll: a result, a failure, or no answer at all. */
export type ScriptedPoll = PollResult | DeviceAuthError | "hang"

/** What a {@link ScriptedIssuer} answers. */
export interface ScriptedIssuerOptions {
  readonly issuer?: string
  readonly dialect?: "codex" | "rfc8628"
  readonly interval?: Duration.DurationInput
  /** The code's expiry, counted from the moment `start` is called. */
  readonly expiresIn?: Duration.DurationInput
  /** Fails `start` with this error instead of issuing a code. */
  readonly startError?: DeviceAuthError
  /** Answers to the polls in order; once used up, every poll is pending. */
  readonly polls?: ReadonlyArray<ScriptedPoll>
  /** The id_token payload handed out by `exchange`. */
  readonly claims?: Record<string, unknown>
  /** Fails `exchange` with this error. */
  readonly exchangeError?: DeviceAuthError
}

/** How often each call was made. */
export interface ScriptedCalls {
  readonly start: number
  readonly poll: number
  readonly exchange: number
  readonly refresh: number
  readonly revoke: number
}

/** A scripted `DeviceAuthorization` for unit tests, with a log of what the client did and when. */
export interface ScriptedIssuer {
  readonly service: DeviceAuthorization["Type"]
  readonly layer: Layer.Layer<DeviceAuthorization>
  /** The Clock time (ms) of each poll. */
  readonly pollTimes: Effect.Effect<ReadonlyArray<number>>
  readonly calls: Effect.Effect<ScriptedCalls>
}

/** An unsigned JWT (`alg: none`) carrying `payload`: claims readers that verify nothing, as codex, accept it. */
export const unsignedJwt = (payload: Record<string, unknown>): string => {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")
  return `${part({ alg: "none", typ: "JWT" })}.${part(payload)}.`
}

/** The claims a ChatGPT id_token carries (codex-protocol.md §5). */
export const chatgptClaims = (options: { email?: string; plan?: string; accountId?: string | null } = {}) => ({
  email: options.email ?? "dev@example.com",
  "https://api.openai.com/auth": {
    chatgpt_plan_type: options.plan ?? "plus",
    chatgpt_user_id: "user-test",
    ...(options.accountId === null ? {} : { chatgpt_account_id: options.accountId ?? "acct_test" })
  }
})

/** An approved poll with a Codex authorization code; `mismatchedPkce` sends a challenge that is not S256(verifier). */
export const approvedPoll = (options: { readonly mismatchedPkce?: boolean } = {}): PollResult =>
  PollResult.Approved({
    grant: AuthorizationGrant.AuthorizationCode({
      code: Redacted.make("test-authorization-code"),
      codeVerifier: Redacted.make("test-code-verifier"),
      codeChallenge: s256Challenge(options.mismatchedPkce ? "another-code-verifier" : "test-code-verifier")
    })
  })

/** Builds a {@link ScriptedIssuer}. */
export const make = (options: ScriptedIssuerOptions = {}): Effect.Effect<ScriptedIssuer> =>
  Effect.gen(function* () {
    const issuer = options.issuer ?? "https://issuer.test"
    const script = yield* Ref.make(options.polls ?? [])
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const calls = yield* Ref.make<ScriptedCalls>({ start: 0, poll: 0, exchange: 0, refresh: 0, revoke: 0 })
    const count = (key: keyof ScriptedCalls) => Ref.update(calls, (c) => ({ ...c, [key]: c[key] + 1 }))

    const issueTokens = Effect.sync(
      () =>
        new TokenSet({
          accessToken: Redacted.make(unsignedJwt({ sub: "user-test", exp: 4_102_444_800 })),
          idToken: Option.some(Redacted.make(unsignedJwt(options.claims ?? chatgptClaims()))),
          refreshToken: Option.some(Redacted.make("rt_test")),
          expiresIn: Option.none()
        })
    )

    const service: DeviceAuthorization["Type"] = {
      ...(options.dialect === "rfc8628"
        ? OidcIssuer.policy(issuer, CODEX_CLIENT_ID, DEFAULT_SCOPE)
        : CodexIssuer.policy(issuer, CODEX_CLIENT_ID)),
      start: Effect.gen(function* () {
        yield* count("start")
        if (options.startError) return yield* options.startError
        const now = yield* DateTime.now
        return new DeviceCode({
          deviceCode: Redacted.make("deviceauth_test"),
          userCode: "TEST-CODE1",
          verificationUri: codexEndpoints(issuer).verification,
          verificationUriComplete: Option.none(),
          interval: Duration.decode(options.interval ?? "5 seconds"),
          expiresAt: Option.map(Option.fromNullable(options.expiresIn), (ttl) => DateTime.addDuration(now, ttl))
        })
      }),
      poll: () =>
        Effect.gen(function* () {
          yield* count("poll")
          const now = yield* Clock.currentTimeMillis
          yield* Ref.update(times, (all) => [...all, now])
          const next = yield* Ref.modify(script, (steps) => [steps[0], steps.slice(1)] as const)
          if (next === undefined) return PollResult.Pending()
          if (next === "hang") return yield* Effect.never
          if (next._tag === "DeviceAuthError") return yield* next
          return next
        }),
      exchange: () =>
        Effect.gen(function* () {
          yield* count("exchange")
          if (options.exchangeError) return yield* options.exchangeError
          return yield* issueTokens
        }),
      refresh: () =>
        Effect.as(count("refresh"), {
          accessToken: Option.some(Redacted.make(unsignedJwt({ sub: "user-test", exp: 4_102_444_800 }))),
          idToken: Option.none(),
          refreshToken: Option.some(Redacted.make("rt_test_2")),
          expiresIn: Option.none()
        }),
      revoke: () => count("revoke")
    }

    return {
      service,
      layer: Layer.succeed(DeviceAuthorization, service),
      pollTimes: Ref.get(times),
      calls: Ref.get(calls)
    }
  })
