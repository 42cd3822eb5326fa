import { createHash, timingSafeEqual } from "node:crypto"

/** The RFC 7636 §4.2 S256 code challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export const s256Challenge = (verifier: string): string =>
  createHash("sha256").update(verifier, "ascii").digest("base64url")

/** Whether `challenge` is the S256 challenge of `verifier` (RFC 7636 §4.6), compared in constant time. */
export const s256Matches = (verifier: string, challenge: string): boolean => {
  const expected = Buffer.from(s256Challenge(verifier))
  const given = Buffer.from(challenge)
  return expected.length === given.length && timingSafeEqual(expected, given)
}
