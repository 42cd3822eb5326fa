import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { s256Challenge, s256Matches } from "../domain/Pkce.js"
import { Pkce, PkceCodes, PkceMismatch } from "../services/Pkce.js"

/** Checks an issuer's PKCE pair: the same rule for every Pkce implementation. */
export const fromIssuer: Pkce["Type"]["fromIssuer"] = (verifier, challenge) =>
  s256Matches(Redacted.value(verifier), challenge)
    ? Effect.succeed(new PkceCodes({ verifier, challenge }))
    : Effect.fail(new PkceMismatch())

/** PKCE from node:crypto: a 64-byte base64url verifier (86 chars) with its S256 challenge, and 32-byte states. */
export const make: Pkce["Type"] = {
  generate: Effect.sync(() => {
    const verifier = randomBytes(64).toString("base64url")
    return new PkceCodes({ verifier: Redacted.make(verifier), challenge: s256Challenge(verifier) })
  }),
  state: Effect.sync(() => randomBytes(32).toString("base64url")),
  fromIssuer
}

/** The crypto-backed Pkce service. */
export const layer: Layer.Layer<Pkce> = Layer.succeed(Pkce, make)
