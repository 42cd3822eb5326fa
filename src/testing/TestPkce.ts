import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { s256Challenge } from "../domain/Pkce.js"
import { fromIssuer } from "../layers/PkceLive.js"
import { Pkce, PkceCodes } from "../services/Pkce.js"

/** A deterministic {@link Pkce} for tests, with a count of the issuer pairs it checked. */
export interface TestPkce {
  readonly service: Pkce["Type"]
  readonly layer: Layer.Layer<Pkce>
  /** How many issuer pairs went through `fromIssuer`, matching or not. */
  readonly checked: Effect.Effect<number>
}

/**
 * Makes a {@link TestPkce}: `generate` hands out `test-verifier-1`, `-2`, … with their S256 challenges, `state`
 * `test-state-1`, …; `fromIssuer` checks S256(verifier) = challenge exactly as the live service does.
 */
export const make: Effect.Effect<TestPkce> = Effect.gen(function* () {
  const counter = yield* Ref.make(0)
  const checks = yield* Ref.make(0)
  const next = Ref.updateAndGet(counter, (n) => n + 1)
  const service = Pkce.of({
    generate: Effect.map(next, (n) => {
      const verifier = `test-verifier-${n}`
      return new PkceCodes({ verifier: Redacted.make(verifier), challenge: s256Challenge(verifier) })
    }),
    state: Effect.map(next, (n) => `test-state-${n}`),
    fromIssuer: (verifier, challenge) =>
      Effect.zipRight(
        Ref.update(checks, (n) => n + 1),
        fromIssuer(verifier, challenge)
      )
  })
  return { service, layer: Layer.succeed(Pkce, service), checked: Ref.get(checks) }
})

/** A {@link TestPkce} layer, for tests that need no count. */
export const layer: Layer.Layer<Pkce> = Layer.unwrapEffect(Effect.map(make, (testPkce) => testPkce.layer))
