import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { DeviceAuthError } from "../domain/Errors.js"
import type { IssuerClient } from "../services/IssuerClient.js"
import { refreshBound } from "../services/schedules.js"

/**
 * `issuer` whose refresh requests end by `deadline` (epoch ms, `refreshBound` after the first): one sent later fails at
 * once, one still out then is cut, both `Unavailable`. Only the requests are bounded, not the lock waits around them.
 */
export const requestsBefore = (issuer: IssuerClient["Type"], deadline: number): IssuerClient["Type"] => {
  const late = () =>
    new DeviceAuthError({
      reason: "Unavailable",
      issuer: issuer.issuer,
      step: "refresh",
      detail: `no usable answer within ${Duration.format(refreshBound)}, retries included`
    })
  return {
    ...issuer,
    refresh: (refreshToken, reason) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now >= deadline
          ? Effect.fail(late())
          : issuer.refresh(refreshToken, reason).pipe(Effect.timeoutFail({ duration: deadline - now, onTimeout: late }))
      )
  }
}

/** Whether `deadline` (epoch ms) is still ahead: a retry of the refresh starts only then. */
export const before = (deadline: number): Effect.Effect<boolean> =>
  Effect.map(Clock.currentTimeMillis, (now) => now < deadline)
