import * as Either from "effect/Either"
import { normalizeIssuer } from "./CodexConstants.js"
import { isSafe, sanitize } from "./Sanitize.js"

/**
 * Whether `hostname` (as `URL` normalises it) is the loopback interface: `localhost`, 127.0.0.0/8 or `[::1]`. The URL
 * parser has already turned `127.1`, `0x7f.1` and `[0:0::1]` into their canonical forms.
 */
export const isLoopbackHost = (hostname: string): boolean => {
  const host = hostname.toLowerCase().replace(/\.$/, "")
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/**
 * Checks an issuer URL a person or an app gave: `https`, or `http` on a loopback host only (tokens and codes would
 * otherwise cross the network in clear text); no `user:pass@`, no query, no fragment (the endpoints are built by
 * appending paths). Right: the issuer with codex's trailing `/` trimmed. Left: why not, starting with `name`
 * (`--issuer`, `the issuer option`), never echoing a user name or password.
 */
export const validateIssuerUrl = (value: string, name: string): Either.Either<string, string> => {
  const trimmed = value.trim()
  // whatever precedes an "@" may be a password: such a value is not repeated
  const got = trimmed.includes("@") ? "" : `, got "${sanitize(trimmed)}"`
  const url = URL.canParse(trimmed) ? new URL(trimmed) : undefined
  if (url === undefined || (url.protocol !== "https:" && url.protocol !== "http:")) {
    return Either.left(`${name} must be an https URL${got}`)
  }
  // the URL parser drops tabs and newlines and percent-encodes other controls, but the issuer is used as typed
  if (/\s/.test(trimmed) || !isSafe(trimmed)) {
    return Either.left(`${name} must not contain spaces or control characters${got}`)
  }
  if (url.username !== "" || url.password !== "") {
    return Either.left(`${name} must not contain a user name or password (user:pass@…); remove them from the URL`)
  }
  if (url.href.includes("?")) {
    return Either.left(`${name} must not have a query (?…): give the issuer's base URL, e.g. https://auth.openai.com`)
  }
  if (url.href.includes("#")) {
    return Either.left(
      `${name} must not have a fragment (#…): give the issuer's base URL, e.g. https://auth.openai.com`
    )
  }
  if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
    return Either.left(
      `${name} must use https: ${sanitize(url.host)} is not a loopback host, and plain http would expose the sign-in on the network (http is allowed only for localhost, 127.0.0.0/8 and ::1)`
    )
  }
  return Either.right(normalizeIssuer(trimmed))
}
