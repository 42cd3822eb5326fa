import { Either } from "effect"

/** The profile codex itself reads: `$CODEX_HOME/auth.json`. */
export const DEFAULT_PROFILE = "default"

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** Checks a profile name: letters, digits, `.`, `_` and `-`, at most 64 characters, starting with a letter or digit. */
export const validateProfileName = (name: string): Either.Either<string, string> =>
  NAME.test(name) && !name.endsWith(".")
    ? Either.right(name)
    : Either.left(
        `profile names use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit), got "${name}"`
      )

/** The profile an RFC 8628 login uses when none is named: the issuer's host (`login.example.com`, `127.0.0.1-8080`). */
export const profileForIssuer = (issuer: string): string => {
  const host = new URL(issuer).host.toLowerCase().replace(/[^a-z0-9._-]/g, "-")
  return host.replace(/^[^a-z0-9]+/, "").slice(0, 64) || "issuer"
}
