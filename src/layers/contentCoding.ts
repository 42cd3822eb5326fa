import * as Either from "effect/Either"
import { gunzipSync } from "node:zlib"

/** The content codings an answer may come in that devicecode decodes: what a dialect may put in `accept-encoding`. */
export const decodableEncodings = "gzip"

/**
 * The body of an answer in a content coding (RFC 9110 §8.4): none or `identity` as is, `gzip` (or `x-gzip`)
 * decompressed up to `maxBytes`; anything else is not read.
 */
export const decodeContent = (
  encoding: string | undefined,
  bytes: Buffer,
  maxBytes: number
): Either.Either<Buffer, "too large" | "corrupt" | { readonly unknown: string }> => {
  const coding = (encoding ?? "").trim().toLowerCase()
  // an empty body stays empty whatever coding its headers name (a 204 that says gzip)
  if (coding === "" || coding === "identity" || bytes.length === 0) return Either.right(bytes)
  if (coding !== "gzip" && coding !== "x-gzip") return Either.left({ unknown: coding })
  try {
    return Either.right(gunzipSync(bytes, { maxOutputLength: maxBytes }))
  } catch (error) {
    return Either.left(error instanceof RangeError ? "too large" : "corrupt")
  }
}
