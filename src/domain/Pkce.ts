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

/** How many random bytes a client's PKCE verifier is made of: codex's 64, 86 base64url characters (RFC 7636: 43–128). */
export const VERIFIER_BYTES = 64

/** How many random bytes a browser login's `state` is made of: codex's 32, 43 base64url characters. */
export const STATE_BYTES = 32

/** Random bytes as base64url without padding, the form of codex's verifier and state. */
export const base64UrlNoPad = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64url")
