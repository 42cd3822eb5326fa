import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Ref from "effect/Ref"
import * as Pkce from "../services/Pkce.js"

/** A {@link Pkce.Pkce} for tests, with a count of the issuer pairs it checked. */
export interface TestPkce {
  readonly service: Pkce.Pkce["Type"]
  readonly layer: Layer.Layer<Pkce.Pkce>
  /** How many issuer pairs went through `fromIssuer`, matching or not. */
  readonly checked: Effect.Effect<number>
}

/** Makes a {@link TestPkce}: `fromIssuer` checks S256(verifier) = challenge exactly as the live service does. */
export const make: Effect.Effect<TestPkce> = Effect.gen(function* () {
  const checks = yield* Ref.make(0)
  const service = Pkce.Pkce.of({
    fromIssuer: (verifier, challenge) =>
      Effect.zipRight(
        Ref.update(checks, (n) => n + 1),
        Pkce.fromIssuer(verifier, challenge)
      )
  })
  return { service, layer: Layer.succeed(Pkce.Pkce, service), checked: Ref.get(checks) }
})

/** A {@link TestPkce} layer, for tests that need no count. */
export const layer: Layer.Layer<Pkce.Pkce> = Layer.unwrapEffect(Effect.map(make, (testPkce) => testPkce.layer))
