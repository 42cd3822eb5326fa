import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { CODEX_CLIENT_ID, codexAuthorizeUrl, codexBrowserRedirect, codexEndpoints } from "../domain/CodexWire.js"
import { DeviceCode } from "../domain/DeviceCode.js"
import type { DeviceAuthError } from "../domain/Errors.js"
import { s256Challenge } from "../domain/Pkce.js"
import { TokenSet } from "../domain/TokenSet.js"
import * as CodexIssuer from "../layers/CodexIssuer.js"
import * as OidcIssuer from "../layers/OidcIssuer.js"
import { DEFAULT_SCOPE } from "../layers/OidcIssuer.js"
import { completeGrant, issuerClientOf, loginFlowOf } from "../layers/issuerRules.js"
import { fromIssuer } from "../services/Pkce.js"
import type { Pkce } from "../services/Pkce.js"
import { IssuerClient, type RefreshedTokens } from "../services/IssuerClient.js"
import { IssuerResolver, fixed } from "../services/IssuerResolver.js"
import { AuthorizationGrant, LoginFlow, PollResult } from "../services/LoginFlow.js"
import type { Dialect } from "../domain/Dialect.js"

/** One scripted answer to a poll: a result, a failure, or no answer at all. */
export type ScriptedPoll = PollResult | DeviceAuthError | "hang"

/** The `exp` of issued access tokens unless `tokenLifetime` is given: 2100-01-01T00:00:00Z, never due in a test. */
export const FAR_FUTURE_EXP = 4_102_444_800

/** What a {@link ScriptedIssuer} answers. */
export interface ScriptedIssuerOptions {
  readonly issuer?: string
  readonly dialect?: Dialect
  readonly interval?: Duration.DurationInput
  /** The code's expiry, counted from the moment `start` is called. */
  readonly expiresIn?: Duration.DurationInput
  /** Fails `start` with this error instead of issuing a code. */
  readonly startError?: DeviceAuthError
  /** Answers to the polls in order; once used up, every poll is pending. */
  readonly polls?: ReadonlyArray<ScriptedPoll>
  /** The id_token payload handed out by the completed login. */
  readonly claims?: Record<string, unknown>
  /** Fails the code exchange with this error. */
  readonly exchangeError?: DeviceAuthError
  /** Checks the PKCE pair of an approved code before the exchange; default: S256(verifier) = challenge, as live. */
  readonly pkce?: Pick<Pkce["Type"], "fromIssuer">
  /**
   * How long each issued access token lives: its JWT `exp` is the Clock's time at issue plus this, and the answer
   * carries it as `expires_in`. Default: the tokens expire at {@link FAR_FUTURE_EXP} and the answers name no lifetime.
   */
  readonly tokenLifetime?: Duration.DurationInput
  /** Fails every refresh with this error instead of issuing tokens. */
  readonly refreshError?: DeviceAuthError
}

/** How often each call was made. */
export interface ScriptedCalls {
  readonly start: number
  readonly poll: number
  readonly exchange: number
  readonly refresh: number
  readonly revoke: number
}

/**
 * A scripted issuer for unit tests, with a log of what the client did and when: its login flow, its issuer client and
 * a resolver that always answers with that client. The login hands out tokens numbered 1 (`rt_test_1`, an access
 * token with `"n": 1`), and each refresh the next number: a new access token and a new refresh token every time.
 */
export interface ScriptedIssuer {
  readonly flow: LoginFlow["Type"]
  readonly client: IssuerClient["Type"]
  /** The flow, the client, and `IssuerResolver.fixed` over the client. */
  readonly layer: Layer.Layer<LoginFlow | IssuerClient | IssuerResolver>
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
export const approvedPoll = (
  options: { readonly mismatchedPkce?: boolean; readonly issuer?: string } = {}
): PollResult =>
  PollResult.Approved({
    grant: AuthorizationGrant.AuthorizationCode({
      code: Redacted.make("test-authorization-code"),
      codeVerifier: Redacted.make("test-code-verifier"),
      codeChallenge: s256Challenge(options.mismatchedPkce ? "another-code-verifier" : "test-code-verifier"),
      redirectUri: codexEndpoints(options.issuer ?? "https://issuer.test").redirectUri
    })
  })

/** Builds a {@link ScriptedIssuer}. */
export const make = (options: ScriptedIssuerOptions = {}): Effect.Effect<ScriptedIssuer> =>
  Effect.gen(function* () {
    const issuer = options.issuer ?? "https://issuer.test"
    const script = yield* Ref.make(options.polls ?? [])
    const times = yield* Ref.make<ReadonlyArray<number>>([])
    const calls = yield* Ref.make<ScriptedCalls>({ start: 0, poll: 0, exchange: 0, refresh: 0, revoke: 0 })
    const issued = yield* Ref.make(0)
    const count = (key: keyof ScriptedCalls) => Ref.update(calls, (c) => ({ ...c, [key]: c[key] + 1 }))
    const lifetime = Option.map(Option.fromNullable(options.tokenLifetime), Duration.decode)
    const rules =
      options.dialect === "rfc8628"
        ? OidcIssuer.rules(issuer, CODEX_CLIENT_ID, DEFAULT_SCOPE)
        : CodexIssuer.rules(issuer, CODEX_CLIENT_ID)

    // the next numbered pair: an access token living `tokenLifetime` (or until 2100) and refresh token rt_test_<n>
    const nextTokens = Effect.gen(function* () {
      const n = yield* Ref.updateAndGet(issued, (count) => count + 1)
      const now = yield* Clock.currentTimeMillis
      const exp = Option.match(lifetime, {
        onNone: () => FAR_FUTURE_EXP,
        onSome: (ttl) => Math.floor((now + Duration.toMillis(ttl)) / 1000)
      })
      return {
        accessToken: Redacted.make(unsignedJwt({ sub: "user-test", exp, n })),
        refreshToken: Redacted.make(`rt_test_${n}`),
        expiresIn: lifetime
      }
    })

    const flow = loginFlowOf(rules, {
      issuer,
      authorizeUrl: (request) =>
        Effect.succeed({
          url: codexAuthorizeUrl({ issuer, clientId: CODEX_CLIENT_ID, ...request }),
          responseIss: Option.none()
        }),
      browserRedirect: codexBrowserRedirect,
      exchangeApiKey: Option.none(),
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
      complete: completeGrant({
        issuer,
        pkce: options.pkce ?? { fromIssuer },
        claimsRequired: rules.authMode === "chatgpt",
        exchange: () =>
          Effect.gen(function* () {
            yield* count("exchange")
            if (options.exchangeError) return yield* options.exchangeError
            const { accessToken, expiresIn, refreshToken } = yield* nextTokens
            return new TokenSet({
              accessToken,
              idToken: Option.some(Redacted.make(unsignedJwt(options.claims ?? chatgptClaims()))),
              refreshToken: Option.some(refreshToken),
              expiresIn
            })
          })
      })
    })

    const client = issuerClientOf(rules, {
      issuer,
      refresh: () =>
        Effect.gen(function* () {
          yield* count("refresh")
          if (options.refreshError) return yield* options.refreshError
          const { accessToken, expiresIn, refreshToken } = yield* nextTokens
          return {
            accessToken: Option.some(accessToken),
            idToken: Option.none(),
            refreshToken: Option.some(refreshToken),
            expiresIn
          } satisfies RefreshedTokens
        }),
      revoke: () => count("revoke")
    })

    return {
      flow,
      client,
      layer: Layer.mergeAll(
        Layer.succeed(LoginFlow, flow),
        Layer.provideMerge(fixed, Layer.succeed(IssuerClient, client))
      ),
      pollTimes: Ref.get(times),
      calls: Ref.get(calls)
    }
  })
