import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as Effect from "effect/Effect"
import type * as Redacted from "effect/Redacted"

/** An RFC 7636 verifier and its S256 challenge. */
export class PkceCodes extends Data.Class<{
  readonly verifier: Redacted.Redacted<string>
  readonly challenge: string
}> {}

/** An issuer sent a PKCE verifier whose S256 hash is not the challenge it sent with it. Names no values. */
export class PkceMismatch extends Data.TaggedError("PkceMismatch")<{}> {
  override get message(): string {
    return "the issuer's PKCE values do not match: S256(code_verifier) is not its code_challenge"
  }
}

/** Makes and checks PKCE pairs (RFC 7636) and OAuth `state` values. */
export class Pkce extends Context.Tag("devicecode/Pkce")<
  Pkce,
  {
    /** A fresh verifier and its S256 challenge (for the test kit and a future browser flow). */
    readonly generate: Effect.Effect<PkceCodes>
    readonly state: Effect.Effect<string>
    /** The issuer's verifier and challenge as {@link PkceCodes}, once S256(verifier) equals the challenge (§4.6). */
    readonly fromIssuer: (
      verifier: Redacted.Redacted<string>,
      challenge: string
    ) => Effect.Effect<PkceCodes, PkceMismatch>
  }
>() {}
