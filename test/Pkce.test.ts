import { assert, describe, it } from "@effect/vitest"
import { Effect, Either, Redacted } from "effect"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as Pkce from "../src/services/Pkce.js"

describe("Pkce", () => {
  it("matches the RFC 7636 Appendix B vector", () => {
    assert.strictEqual(
      s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
  })

  it.effect("Pkce.layer checks an issuer's pair: S256(verifier) = challenge, else PkceMismatch naming no value", () =>
    Effect.gen(function* () {
      const pkce = yield* Pkce.Pkce
      const verifier = Redacted.make("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
      const checked = yield* pkce.fromIssuer(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
      assert.strictEqual(checked.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
      assert.strictEqual(checked.verifier, verifier)
      const mismatch = yield* Effect.flip(pkce.fromIssuer(verifier, s256Challenge("another verifier")))
      assert.strictEqual(mismatch._tag, "PkceMismatch")
      assert.notInclude(mismatch.message, "dBjftJeZ")
    }).pipe(Effect.provide(Pkce.layer))
  )

  it("fromIssuer is the only way to a PkceCodes: a pair of another shape does not typecheck", () => {
    const pair = Either.getOrThrow(Pkce.fromIssuer(Redacted.make("v"), s256Challenge("v")))
    assert.isTrue(pair instanceof Pkce.PkceCodes)
    assert.isTrue(Either.isLeft(Pkce.fromIssuer(Redacted.make("v"), s256Challenge("w"))))
    // @ts-expect-error the constructor is private: an unchecked pair cannot be made
    assert.isDefined(() => new Pkce.PkceCodes({ verifier: Redacted.make("v"), challenge: "x" }))
    // @ts-expect-error a look-alike object is no PkceCodes
    const lookAlike: Pkce.PkceCodes = { verifier: Redacted.make("v"), challenge: "x" }
    assert.isDefined(lookAlike)
  })
})
