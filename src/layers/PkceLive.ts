import { randomBytes } from "node:crypto"
import { Effect, Layer, Redacted } from "effect"
import { s256Challenge } from "../domain/Pkce.js"
import { Pkce, PkceCodes } from "../services/Pkce.js"

/** PKCE from node:crypto: a 64-byte base64url verifier (86 chars) with its S256 challenge, and 32-byte states. */
export const make: Pkce["Type"] = {
  generate: Effect.sync(() => {
    const verifier = randomBytes(64).toString("base64url")
    return new PkceCodes({ verifier: Redacted.make(verifier), challenge: s256Challenge(verifier) })
  }),
  state: Effect.sync(() => randomBytes(32).toString("base64url"))
}

/** The crypto-backed Pkce service. */
export const layer: Layer.Layer<Pkce> = Layer.succeed(Pkce, make)
