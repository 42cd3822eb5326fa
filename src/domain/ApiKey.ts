import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { ApiKeyInputError } from "./Errors.js"
import { isSafe } from "./Sanitize.js"

/**
 * The API key of `login --with-api-key` from what came on stdin: white space around it trimmed (the newline of
 * `echo`); nothing left, white space inside, or a control character anywhere is an {@link ApiKeyInputError}.
 */
export const parseApiKeyInput = (input: string): Either.Either<Redacted.Redacted<string>, ApiKeyInputError> => {
  const key = input.trim()
  if (key === "") return Either.left(new ApiKeyInputError({ reason: "Empty" }))
  if (/\s/.test(key)) return Either.left(new ApiKeyInputError({ reason: "Whitespace" }))
  if (!isSafe(key)) return Either.left(new ApiKeyInputError({ reason: "Control" }))
  return Either.right(Redacted.make(key))
}
