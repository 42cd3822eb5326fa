import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"

/** A plain JSON object (not null, not an array). */
export const isRecord = (u: unknown): u is Record<string, unknown> =>
  typeof u === "object" && u !== null && !Array.isArray(u)

/** The deepest nesting of objects and arrays devicecode reads from a server; no real answer comes near it. */
export const MAX_JSON_DEPTH = 64

/**
 * Whether JSON text nests objects and arrays deeper than `max`: one pass over the brackets outside strings, with no
 * parse and no recursion, so a hostile answer cannot exhaust the stack of whatever walks the parsed value.
 */
export const nestedDeeperThan = (text: string, max: number = MAX_JSON_DEPTH): boolean => {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash escapes the next character, `"` included
      else if (c === 0x22) inString = false
    } else if (c === 0x22) {
      inString = true
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true
    } else if (c === 0x7d || c === 0x5d) {
      depth--
    }
  }
  return false
}

/**
 * Parses JSON, dropping the error: JSON.parse's message quotes the text, which may hold secrets. Text nested deeper
 * than {@link MAX_JSON_DEPTH} is refused unparsed.
 */
export const parseJson = (text: string): Option.Option<unknown> => {
  if (nestedDeeperThan(text)) return Option.none()
  try {
    return Option.some(JSON.parse(text))
  } catch {
    return Option.none()
  }
}

/** The string itself unless it is missing or blank. */
export const nonEmpty = (s: string | null | undefined): string | undefined =>
  s !== undefined && s !== null && s.trim() !== "" ? s : undefined

/**
 * What is wrong with a decoded body, naming fields but never values (bodies hold tokens): the fields missing or
 * invalid; else the rule a wire → domain transform found broken (`missing user_code`); else not a JSON object.
 */
export const wireProblem = (error: ParseResult.ParseError): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const fields = [...new Set(issues.map((issue) => issue.path.map(String).join(".")).filter((path) => path !== ""))]
  if (fields.length > 0) return `missing or invalid ${fields.join(", ")}`
  return issues.find((issue) => issue._tag === "Transformation")?.message ?? "the body is not a JSON object"
}
