import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { randomBytes } from "node:crypto"
import * as Effect from "effect/Effect"
import { base64UrlNoPad, s256Challenge, s256Matches, STATE_BYTES, VERIFIER_BYTES } from "../domain/Pkce.js"

/** An issuer sent a PKCE verifier whose S256 hash is not the challenge it sent with it. Names no values. */
export class PkceMismatch extends Data.TaggedError("PkceMismatch")<{}> {
  override get message(): string {
    return "the issuer's PKCE values do not match: S256(code_verifier) is not its code_challenge"
  }
}

interface PkceFields {
  readonly verifier: Redacted.Redacted<string>
  readonly challenge: string
}

/** An RFC 7636 verifier and its S256 challenge, checked: made only by {@link fromIssuer} or from a verifier. */
export class PkceCodes extends Data.Class<PkceFields> {
  // a private member makes the type nominal: an object of the same shape is not a checked pair
  declare private readonly checked: true

  private constructor(fields: PkceFields) {
    super(fields)
  }

  /** A client's own pair: `verifier` and its S256 challenge (RFC 7636 §4.2), for a browser login. */
  static fromVerifier(verifier: Redacted.Redacted<string>): PkceCodes {
    return new PkceCodes({ verifier, challenge: s256Challenge(Redacted.value(verifier)) })
  }

  /** The pair as {@link PkceCodes} once S256(verifier) equals the challenge (RFC 7636 §4.6), else a PkceMismatch. */
  static fromIssuer(verifier: Redacted.Redacted<string>, challenge: string): Either.Either<PkceCodes, PkceMismatch> {
    return s256Matches(Redacted.value(verifier), challenge)
      ? Either.right(new PkceCodes({ verifier, challenge }))
      : Either.left(new PkceMismatch())
  }
}

/** An issuer's verifier and challenge as checked {@link PkceCodes} (RFC 7636 §4.6): the rule of every Pkce service. */
export const fromIssuer = (
  verifier: Redacted.Redacted<string>,
  challenge: string
): Either.Either<PkceCodes, PkceMismatch> => PkceCodes.fromIssuer(verifier, challenge)

/**
 * Checks the PKCE pair an issuer hands out (RFC 7636) before it is used in an exchange, and makes a client's own pair
 * and `state` for a browser login.
 */
export class Pkce extends Context.Tag("devicecode/Pkce")<
  Pkce,
  {
    /** A new verifier of {@link VERIFIER_BYTES} random bytes (base64url, no padding) and its S256 challenge. */
    readonly generate: Effect.Effect<PkceCodes>
    /** A new `state` for an authorization request: {@link STATE_BYTES} random bytes, base64url without padding. */
    readonly state: Effect.Effect<string>
    /** The issuer's verifier and challenge as {@link PkceCodes}, once S256(verifier) equals the challenge (§4.6). */
    readonly fromIssuer: (
      verifier: Redacted.Redacted<string>,
      challenge: string
    ) => Effect.Effect<PkceCodes, PkceMismatch>
  }
>() {}

/** The Pkce service: S256 over node:crypto's SHA-256, compared in constant time; random bytes from node:crypto. */
export const make: Pkce["Type"] = Pkce.of({
  fromIssuer: (verifier, challenge) => PkceCodes.fromIssuer(verifier, challenge),
  generate: Effect.sync(() => PkceCodes.fromVerifier(Redacted.make(base64UrlNoPad(randomBytes(VERIFIER_BYTES))))),
  state: Effect.sync(() => base64UrlNoPad(randomBytes(STATE_BYTES)))
})

/** The Pkce service as a layer. */
export const layer: Layer.Layer<Pkce> = Layer.succeed(Pkce, make)
