import * as Data from "effect/Data"
import * as DateTime from "effect/DateTime"
import * as Either from "effect/Either"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import { isRecord, parseJson } from "./Json.js"

const AUTH_CLAIM = "https://api.openai.com/auth"
const PROFILE_CLAIM = "https://api.openai.com/profile"

/** What devicecode reads from an id_token (codex-protocol.md §5); the signature is not checked, as codex does not. */
export class IdTokenClaims extends Data.Class<{
  readonly email: Option.Option<string>
  readonly name: Option.Option<string>
  readonly subject: Option.Option<string>
  /** `chatgpt_plan_type`, kept as sent even when the value is new to us. */
  readonly plan: Option.Option<string>
  readonly accountId: Option.Option<string>
  readonly userId: Option.Option<string>
}> {}

const str = (u: unknown): Option.Option<string> => (typeof u === "string" && u !== "" ? Option.some(u) : Option.none())

/** Decodes the payload of a JWT (base64url JSON) without verifying it. */
export const decodeJwtPayload = (jwt: string): Either.Either<Record<string, unknown>, string> => {
  const parts = jwt.split(".")
  if (parts.length !== 3 || parts[1] === "") return Either.left("not a JWT (expected three dot-separated parts)")
  return Option.match(parseJson(Buffer.from(parts[1]!, "base64url").toString("utf8")), {
    onNone: () => Either.left("JWT payload is not base64url-encoded JSON"),
    onSome: (payload) => (isRecord(payload) ? Either.right(payload) : Either.left("JWT payload is not a JSON object"))
  })
}

/** Reads the claims of an id_token; a token that is not a JWT yields the error text. */
export const parseIdTokenClaims = (idToken: Redacted.Redacted<string>): Either.Either<IdTokenClaims, string> =>
  Either.map(decodeJwtPayload(Redacted.value(idToken)), (payload) => {
    const auth = isRecord(payload[AUTH_CLAIM]) ? payload[AUTH_CLAIM] : {}
    const profile = isRecord(payload[PROFILE_CLAIM]) ? payload[PROFILE_CLAIM] : {}
    return new IdTokenClaims({
      email: Option.orElse(str(payload.email), () => str(profile.email)),
      name: str(payload.name),
      subject: str(payload.sub),
      plan: str(auth.chatgpt_plan_type),
      accountId: str(auth.chatgpt_account_id),
      userId: Option.orElse(str(auth.chatgpt_user_id), () => str(auth.user_id))
    })
  })

/** Claims of nobody: what a token without readable claims is treated as. */
export const emptyClaims = new IdTokenClaims({
  email: Option.none(),
  name: Option.none(),
  subject: Option.none(),
  plan: Option.none(),
  accountId: Option.none(),
  userId: Option.none()
})

/** When a JWT access token expires, from its `exp` claim; opaque tokens have none. */
export const jwtExpiry = (token: Redacted.Redacted<string>): Option.Option<DateTime.Utc> =>
  Either.getRight(decodeJwtPayload(Redacted.value(token))).pipe(
    Option.flatMap((payload) =>
      typeof payload.exp === "number" && Number.isFinite(payload.exp)
        ? DateTime.make(payload.exp * 1000)
        : Option.none()
    )
  )
