import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import { base64UrlNoPad, STATE_BYTES, VERIFIER_BYTES } from "../domain/Pkce.js"
import * as Pkce from "../services/Pkce.js"

/** A {@link Pkce.Pkce} for tests, with a count of the issuer pairs it checked and of the values it made. */
export interface TestPkce {
  readonly service: Pkce.Pkce["Type"]
  readonly layer: Layer.Layer<Pkce.Pkce>
  /** How many issuer pairs went through `fromIssuer`, matching or not. */
  readonly checked: Effect.Effect<number>
  /** How many pairs and states `generate` and `state` made. */
  readonly generated: Effect.Effect<number>
}

/**
 * Makes a {@link TestPkce}: `fromIssuer` checks S256(verifier) = challenge exactly as the live service does;
 * `generate` and `state` make values of the live shape (64 and 32 bytes, base64url without padding) that are the same
 * in every run: the n-th value is n bytes of value n.
 */
export const make: Effect.Effect<TestPkce> = Effect.gen(function* () {
  const checks = yield* Ref.make(0)
  const made = yield* Ref.make(0)
  const next = (size: number) =>
    Effect.map(
      Ref.updateAndGet(made, (n) => n + 1),
      (n) => base64UrlNoPad(new Uint8Array(size).fill(n % 256))
    )
  const service = Pkce.Pkce.of({
    fromIssuer: (verifier, challenge) =>
      Effect.zipRight(
        Ref.update(checks, (n) => n + 1),
        Pkce.fromIssuer(verifier, challenge)
      ),
    generate: Effect.map(next(VERIFIER_BYTES), (verifier) => Pkce.PkceCodes.fromVerifier(Redacted.make(verifier))),
    state: next(STATE_BYTES)
  })
  return { service, layer: Layer.succeed(Pkce.Pkce, service), checked: Ref.get(checks), generated: Ref.get(made) }
})

/** A {@link TestPkce} layer, for tests that need no count. */
export const layer: Layer.Layer<Pkce.Pkce> = Layer.unwrapEffect(Effect.map(make, (testPkce) => testPkce.layer))
