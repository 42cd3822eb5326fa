import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Either from "effect/Either"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import { s256Matches } from "../domain/Pkce.js"

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

/** An RFC 7636 verifier and its S256 challenge, checked: only {@link fromIssuer} makes one. */
export class PkceCodes extends Data.Class<PkceFields> {
  // a private member makes the type nominal: an object of the same shape is not a checked pair
  declare private readonly checked: true

  private constructor(fields: PkceFields) {
    super(fields)
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

/** Checks the PKCE pair an issuer hands out (RFC 7636) before it is used in an exchange. */
export class Pkce extends Context.Tag("devicecode/Pkce")<
  Pkce,
  {
    /** The issuer's verifier and challenge as {@link PkceCodes}, once S256(verifier) equals the challenge (§4.6). */
    readonly fromIssuer: (
      verifier: Redacted.Redacted<string>,
      challenge: string
    ) => Effect.Effect<PkceCodes, PkceMismatch>
  }
>() {}

/** The Pkce service: S256 over node:crypto's SHA-256, compared in constant time. */
export const make: Pkce["Type"] = Pkce.of({ fromIssuer })

/** The Pkce service as a layer. */
export const layer: Layer.Layer<Pkce> = Layer.succeed(Pkce, make)
