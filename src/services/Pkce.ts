import { Context, Data, Effect, Redacted } from "effect"

/** An RFC 7636 verifier and its S256 challenge. */
export class PkceCodes extends Data.Class<{
  readonly verifier: Redacted.Redacted<string>
  readonly challenge: string
}> {}

/** Makes PKCE pairs and OAuth `state` values. */
export class Pkce extends Context.Tag("devicecode/Pkce")<
  Pkce,
  {
    readonly generate: Effect.Effect<PkceCodes>
    readonly state: Effect.Effect<string>
  }
>() {}
