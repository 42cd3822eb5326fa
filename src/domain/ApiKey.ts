import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import { ApiKeyInputError } from "./Errors.js"
import { isSafe } from "./Sanitize.js"

/**
 * An API key from what a person gave (`source`: on stdin, or through an app): white space around it trimmed (the
 * newline of `echo`); nothing left, white space inside, or a control character anywhere is an {@link ApiKeyInputError}.
 */
export const parseApiKeyInput = (
  input: string,
  source: ApiKeyInputError["source"] = "stdin"
): Either.Either<Redacted.Redacted<string>, ApiKeyInputError> => {
  const key = input.trim()
  if (key === "") return Either.left(new ApiKeyInputError({ reason: "Empty", source }))
  if (/\s/.test(key)) return Either.left(new ApiKeyInputError({ reason: "Whitespace", source }))
  if (!isSafe(key)) return Either.left(new ApiKeyInputError({ reason: "Control", source }))
  return Either.right(Redacted.make(key))
}
