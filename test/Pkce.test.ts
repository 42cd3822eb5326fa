import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { s256Challenge } from "../src/domain/Pkce.js"
import * as PkceLive from "../src/layers/PkceLive.js"
import { Pkce } from "../src/services/Pkce.js"

describe("Pkce", () => {
  it("matches the RFC 7636 Appendix B vector", () => {
    assert.strictEqual(
      s256Challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
  })

  it.effect("PkceLive makes an 86-char base64url verifier with its S256 challenge", () =>
    Effect.gen(function* () {
      const pkce = yield* Pkce
      const first = yield* pkce.generate
      const second = yield* pkce.generate
      const verifier = Redacted.value(first.verifier)
      assert.match(verifier, /^[A-Za-z0-9_-]{86}$/)
      assert.strictEqual(first.challenge, s256Challenge(verifier))
      assert.notStrictEqual(Redacted.value(second.verifier), verifier)
      const state = yield* pkce.state
      assert.match(state, /^[A-Za-z0-9_-]{43}$/)
    }).pipe(Effect.provide(PkceLive.layer))
  )
})
