import { randomInt } from "node:crypto"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Queue from "effect/Queue"
import type * as Duration from "effect/Duration"
import type * as Scope from "effect/Scope"
import type { LocalIssuerCodeStatus } from "./types.js"

/** The device-flow dialect a code or token belongs to. */
import type { Dialect } from "../../domain/Dialect.js"

export type { Dialect }

/** What a code grants once approved: the client it was issued to and the scopes it asked for. */
export interface Grant {
  readonly dialect: Dialect
  readonly clientId: string
  readonly scope: ReadonlyArray<string>
  /** The `nonce` of a browser sign-in's request (OpenID Connect Core §3.1.2.1), for its id_token. */
  readonly nonce?: string
}

/** One device code, whichever dialect issued it. */
export interface DeviceRecord extends Grant {
  /** Codex's `device_auth_id` or RFC 8628's `device_code`. */
  readonly id: string
  readonly userCode: string
  readonly expiresAt: number
  decision: LocalIssuerCodeStatus
}

/** The device codes of both dialects: one store, one approval page, one set of controls. */
export interface DeviceCodes {
  /** Records a new pending code, hands its user code to `nextCode`, and schedules auto-approval. */
  readonly issue: (grant: Grant & { readonly id: string }) => Effect.Effect<DeviceRecord>
  /** The code with this id, if the same dialect issued it. */
  readonly find: (dialect: Dialect, id: string) => DeviceRecord | undefined
  readonly statusOf: (record: DeviceRecord, now: number) => LocalIssuerCodeStatus
  readonly approve: (userCode: string) => Effect.Effect<boolean>
  readonly deny: (userCode: string) => Effect.Effect<boolean>
  readonly expire: (userCode: string) => Effect.Effect<boolean>
  readonly codes: Effect.Effect<ReadonlyArray<{ readonly userCode: string; readonly status: LocalIssuerCodeStatus }>>
  readonly nextCode: Effect.Effect<string>
}

const USER_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

/** Compares user codes as a person types them: any case, with or without the dash and spaces. */
export const normalizeUserCode = (code: string): string => code.trim().toUpperCase().replace(/[\s-]/g, "")

const randomUserCode = (): string => {
  const pick = (n: number) =>
    Array.from({ length: n }, () => USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)]).join("")
  return `${pick(4)}-${pick(5)}`
}

/** Makes the device-code store; auto-approvals run in the calling scope. */
export const makeDeviceCodes = (options: {
  readonly codeTtlMillis: number
  readonly autoApproveAfter: Option.Option<Duration.Duration>
}): Effect.Effect<DeviceCodes, never, Scope.Scope> =>
  Effect.gen(function* () {
    const byId = new Map<string, DeviceRecord>()
    const byUserCode = new Map<string, DeviceRecord>()
    const issued = yield* Queue.unbounded<string>()
    const scope = yield* Effect.scope
    const liveClock = Clock.make()
    const nowMillis = Clock.currentTimeMillis

    const statusOf = (record: DeviceRecord, now: number): LocalIssuerCodeStatus =>
      (record.decision === "pending" || record.decision === "approved") && now >= record.expiresAt
        ? "expired"
        : record.decision

    const decide = (userCode: string, decision: "approved" | "denied" | "expired"): Effect.Effect<boolean> =>
      Effect.map(nowMillis, (now) => {
        const record = byUserCode.get(normalizeUserCode(userCode))
        if (record === undefined || statusOf(record, now) !== "pending") return false
        record.decision = decision
        return true
      })
    const approve = (userCode: string) => decide(userCode, "approved")

    const issue = (grant: Grant & { readonly id: string }) =>
      Effect.gen(function* () {
        const now = yield* nowMillis
        let userCode = randomUserCode()
        while (byUserCode.has(normalizeUserCode(userCode))) userCode = randomUserCode()
        const record: DeviceRecord = {
          ...grant,
          userCode,
          expiresAt: now + options.codeTtlMillis,
          decision: "pending"
        }
        byId.set(record.id, record)
        byUserCode.set(normalizeUserCode(userCode), record)
        yield* Queue.offer(issued, userCode)
        if (Option.isSome(options.autoApproveAfter)) {
          // Real time for the wait, the issuer's clock for the expiry check.
          yield* Effect.sleep(options.autoApproveAfter.value).pipe(
            Effect.withClock(liveClock),
            Effect.zipRight(approve(userCode)),
            Effect.forkIn(scope)
          )
        }
        return record
      })

    return {
      issue,
      find: (dialect, id) => {
        const record = byId.get(id)
        return record?.dialect === dialect ? record : undefined
      },
      statusOf,
      approve,
      deny: (userCode) => decide(userCode, "denied"),
      expire: (userCode) => decide(userCode, "expired"),
      codes: Effect.map(nowMillis, (now) =>
        Array.from(byId.values(), (record) => ({ userCode: record.userCode, status: statusOf(record, now) }))
      ),
      nextCode: Queue.take(issued)
    }
  })
