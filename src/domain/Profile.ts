import * as Either from "effect/Either"
import type { Dialect } from "./Dialect.js"

/** The profile codex itself reads: `$CODEX_HOME/auth.json`. */
export const DEFAULT_PROFILE = "default"

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/**
 * Checks a profile name: letters, digits, `.`, `_` and `-`, at most 64 characters, starting with a letter or digit.
 * `json` and names ending in `.json` are refused: their lock files (`auth.<name>.lock`) would be another profile's
 * write lock (`auth.<other>.json.lock`).
 */
export const validateProfileName = (name: string): Either.Either<string, string> => {
  if (!NAME.test(name) || name.endsWith(".")) {
    return Either.left(
      `profile names use letters, digits, ".", "_" and "-" (at most 64, starting with a letter or digit), got "${name}"`
    )
  }
  return /(^|\.)json$/i.test(name)
    ? Either.left(`a profile name cannot be "json" or end in ".json" (its lock files would clash), got "${name}"`)
    : Either.right(name)
}

/** The profile an RFC 8628 login uses when none is named: the issuer's host (`login.example.com`, `127.0.0.1-8080`). */
export const profileForIssuer = (issuer: string): string => {
  const host = new URL(issuer).host.toLowerCase().replace(/[^a-z0-9._-]/g, "-")
  return host.replace(/^[^a-z0-9]+/, "").slice(0, 64) || "issuer"
}

/** Which dialect, issuer, client and scope a device login uses, and which profile keeps it. */
export interface LoginTarget {
  readonly dialect: Dialect
  readonly issuer: string
  readonly clientId: string
  readonly scope: string
  readonly profile: string
}

/**
 * Resolves a device login from what was asked: the Codex dialect defaults to codex's issuer and client and the
 * `default` profile; RFC 8628 needs an issuer and a client id, and a profile other than `default` (codex's auth.json),
 * by default the issuer's host. A Left says what is missing or does not fit, naming the option as `name` spells it.
 */
export const resolveLoginTarget = (
  asked: {
    readonly dialect?: Dialect | undefined
    readonly issuer?: string | undefined
    readonly clientId?: string | undefined
    readonly scope?: string | undefined
    readonly profile?: string | undefined
  },
  defaults: { readonly codexIssuer: string; readonly codexClientId: string; readonly scope: string },
  name: (option: "issuer" | "clientId" | "profile") => string
): Either.Either<LoginTarget, string> => {
  const checked = asked.profile === undefined ? Either.right(undefined) : validateProfileName(asked.profile)
  if (Either.isLeft(checked)) return Either.left(checked.left)
  const scope = asked.scope ?? defaults.scope
  if ((asked.dialect ?? "codex") === "codex") {
    return Either.right({
      dialect: "codex",
      issuer: asked.issuer ?? defaults.codexIssuer,
      clientId: asked.clientId ?? defaults.codexClientId,
      scope,
      profile: asked.profile ?? DEFAULT_PROFILE
    })
  }
  if (asked.issuer === undefined) return Either.left(`the rfc8628 dialect needs ${name("issuer")}`)
  if (asked.clientId === undefined) return Either.left(`the rfc8628 dialect needs ${name("clientId")}`)
  const profile = asked.profile ?? profileForIssuer(asked.issuer)
  if (profile === DEFAULT_PROFILE) {
    return Either.left(
      `the "${DEFAULT_PROFILE}" profile is codex's auth.json and holds only Codex or API-key sign-ins; name another ${name("profile")}`
    )
  }
  return Either.right({ dialect: "rfc8628", issuer: asked.issuer, clientId: asked.clientId, scope, profile })
}
