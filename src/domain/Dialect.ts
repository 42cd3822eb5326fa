import * as Schema from "effect/Schema"

/** The two device-login dialects: codex's ChatGPT sign-in, and the standard RFC 8628 grant. */
export const Dialect = Schema.Literal("codex", "rfc8628")

/** A device-login dialect: `codex` or `rfc8628`. */
export type Dialect = typeof Dialect.Type

/** The scope an RFC 8628 login asks for unless told otherwise. */
export const DEFAULT_OIDC_SCOPE = "openid profile email offline_access"
