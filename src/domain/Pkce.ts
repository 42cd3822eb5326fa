import { createHash } from "node:crypto"

/** The RFC 7636 §4.2 S256 code challenge of a verifier: base64url(SHA-256(ASCII(verifier))). */
export const s256Challenge = (verifier: string): string =>
  createHash("sha256").update(verifier, "ascii").digest("base64url")
