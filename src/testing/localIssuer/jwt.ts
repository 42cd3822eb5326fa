import * as Either from "effect/Either"
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto"
import { decodeJwtPayload } from "../../domain/IdTokenClaims.js"

const HEADER = Buffer.from(JSON.stringify({ alg: "HS256", typ: "JWT" })).toString("base64url")

/** An HS256 signer and verifier keyed by a random per-instance secret. */
export interface JwtSigner {
  readonly sign: (claims: Record<string, unknown>) => string
  /** The payload of a token this signer made, or undefined when the signature does not match. */
  readonly verify: (token: string) => Record<string, unknown> | undefined
}

/** Makes an HS256 signer with a fresh 32-byte secret. */
export const makeJwtSigner = (secret: Buffer = randomBytes(32)): JwtSigner => {
  const mac = (input: string) => createHmac("sha256", secret).update(input).digest()
  return {
    sign: (claims) => {
      const input = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString("base64url")}`
      return `${input}.${mac(input).toString("base64url")}`
    },
    verify: (token) => {
      const parts = token.split(".")
      if (parts.length !== 3 || parts[0] !== HEADER) return undefined
      const expected = mac(`${parts[0]}.${parts[1]}`)
      const actual = Buffer.from(parts[2]!, "base64url")
      if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return undefined
      return Either.getOrUndefined(decodeJwtPayload(token))
    }
  }
}

/** A random base64url string of `bytes` random bytes. */
export const randomToken = (bytes: number): string => randomBytes(bytes).toString("base64url")
