import { Clock, Effect, type Scope } from "effect"
import { generateKeyPairSync, randomBytes } from "node:crypto"
import { createServer, type Server } from "node:http"
import type { AddressInfo } from "node:net"
import Provider from "oidc-provider"

/** A running oidc-provider on loopback, and a browser that approves or denies its device codes. */
export interface OidcProviderHandle {
  readonly issuer: string
  readonly clientId: string
  /** The client's registered redirect URIs: none for a device-only client; the loopback callback with `browserLogin`. */
  readonly redirectUris: ReadonlyArray<string>
  readonly user: { readonly email: string; readonly name: string; readonly sub: string }
  readonly approve: (userCode: string) => Effect.Effect<void, Error>
  readonly deny: (userCode: string) => Effect.Effect<void, Error>
  readonly requests: Effect.Effect<ReadonlyArray<{ method: string; path: string }>>
}

const CLIENT_ID = "devicecode-e2e"
const USER = { email: "ada@example.test", name: "Ada Lovelace", sub: "e2e-ada" } as const
const DEVICE_CODE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
/** A native client's loopback redirect: oidc-provider matches it on any port (RFC 8252 §7.3), not only this one. */
const LOOPBACK_CALLBACK = "http://127.0.0.1/callback"

// One signing key and cookie secret per test process: RSA generation is the slow part of a start.
let secrets: { readonly jwk: Record<string, unknown>; readonly cookieKey: string } | undefined
const processSecrets = () =>
  (secrets ??= {
    jwk: { ...generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ format: "jwk" }), kid: "e2e" },
    cookieKey: randomBytes(32).toString("hex")
  })

type Payload = Record<string, unknown> & { grantId?: string; userCode?: string; uid?: string; consumed?: number }

/** oidc-provider's storage contract over Maps owned by one provider (its built-in one is process-global). */
const memoryAdapter = () => {
  const records = new Map<string, Payload>()
  const byUserCode = new Map<string, string>()
  const byUid = new Map<string, string>()
  const byGrant = new Map<string, Set<string>>()
  return class MemoryAdapter {
    constructor(readonly model: string) {}
    key(id: string) {
      return `${this.model}:${id}`
    }
    async upsert(id: string, payload: Payload) {
      const key = this.key(id)
      records.set(key, payload)
      if (this.model === "Session" && payload.uid) byUid.set(payload.uid, id)
      if (payload.userCode) byUserCode.set(payload.userCode, id)
      if (payload.grantId) byGrant.set(payload.grantId, (byGrant.get(payload.grantId) ?? new Set()).add(key))
    }
    async find(id: string | undefined) {
      return id === undefined ? undefined : records.get(this.key(id))
    }
    async findByUserCode(userCode: string) {
      return this.find(byUserCode.get(userCode))
    }
    async findByUid(uid: string) {
      return this.find(byUid.get(uid))
    }
    async consume(id: string) {
      const record = records.get(this.key(id))
      if (record) record.consumed = Math.floor(Date.now() / 1000)
    }
    async destroy(id: string) {
      records.delete(this.key(id))
    }
    async revokeByGrantId(grantId: string) {
      for (const key of byGrant.get(grantId) ?? []) records.delete(key)
      byGrant.delete(grantId)
    }
  }
}

/**
 * The one public client: device flow only, or with `browserLogin` also a native app's authorization-code login on a
 * loopback redirect (RFC 8252), which oidc-provider accepts on any port of the registered loopback URI.
 */
const clientOf = (browserLogin: boolean) =>
  browserLogin
    ? {
        client_id: CLIENT_ID,
        application_type: "native",
        token_endpoint_auth_method: "none",
        grant_types: [DEVICE_CODE_GRANT, "authorization_code", "refresh_token"],
        response_types: ["code"],
        redirect_uris: [LOOPBACK_CALLBACK]
      }
    : {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: "none",
        grant_types: [DEVICE_CODE_GRANT, "refresh_token"],
        response_types: [],
        redirect_uris: []
      }

const configuration = (options: {
  readonly deviceCodeTtlSeconds: number
  readonly accessTokenTtlSeconds: number
  readonly browserLogin: boolean
}) => {
  const { jwk, cookieKey } = processSecrets()
  return {
    adapter: memoryAdapter(),
    jwks: { keys: [jwk] },
    cookies: { keys: [cookieKey] },
    clients: [clientOf(options.browserLogin)],
    // PKCE (S256 only) on every authorization request, not only for public clients as by default; the device flow
    // has none. RFC 9207's `iss` in the authorization response is always on in oidc-provider 8 (and in discovery).
    pkce: { methods: ["S256"], required: () => true },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      revocation: { enabled: true }
    },
    scopes: ["openid", "offline_access"],
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // By default an ID Token issued beside an Access Token carries only `sub`; we want the profile claims in it.
    conformIdTokenClaims: false,
    // A device code gets one whenever the client may refresh; an authorization code, as oidc-provider's own default,
    // only when offline_access was granted (which takes prompt=consent, OpenID Connect Core §11).
    issueRefreshToken: async (
      _ctx: unknown,
      client: { grantTypeAllowed: (grant: string) => boolean },
      code: { readonly kind: string; readonly scopes: ReadonlySet<string> }
    ) =>
      client.grantTypeAllowed("refresh_token") &&
      (code.kind !== "AuthorizationCode" || code.scopes.has("offline_access")),
    findAccount: async (_ctx: unknown, id: string) =>
      id === USER.sub
        ? {
            accountId: id,
            claims: async () => ({ sub: USER.sub, email: USER.email, email_verified: true, name: USER.name })
          }
        : undefined,
    // Every lifetime is given, which also keeps the provider from printing a notice for each default it falls back to.
    ttl: {
      DeviceCode: options.deviceCodeTtlSeconds,
      AccessToken: options.accessTokenTtlSeconds,
      IdToken: 3600,
      RefreshToken: 14 * 24 * 3600,
      Interaction: 3600,
      Session: 24 * 3600,
      Grant: 14 * 24 * 3600
    }
  }
}

const listening: Effect.Effect<Server, never, Scope.Scope> = Effect.acquireRelease(
  Effect.async<Server>((resume) => {
    const server = createServer()
    server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
  }),
  (server) =>
    Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })
)

/**
 * Starts oidc-provider 8 on 127.0.0.1 (random port) for the scope, with one public device-flow client and one user;
 * with `browserLogin` the client may also sign in with an authorization code (PKCE) on a loopback redirect, through
 * the provider's own login and consent pages (devInteractions) in a real browser.
 */
export const startOidcProvider = (options?: {
  readonly deviceCodeTtlSeconds?: number
  readonly accessTokenTtlSeconds?: number
  readonly browserLogin?: boolean
}): Effect.Effect<OidcProviderHandle, never, Scope.Scope> =>
  Effect.gen(function* () {
    const server = yield* listening
    // The issuer names the port, so the provider can only be built once the server is listening.
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const provider = new Provider(
      issuer,
      configuration({
        deviceCodeTtlSeconds: options?.deviceCodeTtlSeconds ?? 600,
        accessTokenTtlSeconds: options?.accessTokenTtlSeconds ?? 3600,
        browserLogin: options?.browserLogin ?? false
      })
    )
    provider.on("server_error", (_ctx: unknown, error: unknown) => console.error("oidc-provider server_error:", error))
    const seen: Array<{ method: string; path: string }> = []
    const handle = provider.callback()
    server.on("request", (request, response) => {
      seen.push({ method: request.method ?? "", path: new URL(request.url ?? "/", issuer).pathname })
      void handle(request, response)
    })
    return {
      issuer,
      clientId: CLIENT_ID,
      redirectUris: options?.browserLogin ? [LOOPBACK_CALLBACK] : [],
      user: USER,
      approve: (userCode) => approve(issuer, userCode),
      deny: (userCode) => deny(issuer, userCode),
      requests: Effect.sync(() => [...seen])
    }
  })

// ---- The browser: fetch without redirects, a cookie jar, and forms read out of the provider's HTML.

interface Page {
  readonly url: URL
  readonly status: number
  readonly html: string
}

interface Button {
  readonly name: string | undefined
  readonly value: string
}

interface Form {
  readonly id: string | undefined
  readonly action: URL
  readonly method: string
  readonly fields: ReadonlyMap<string, string>
  readonly buttons: ReadonlyArray<Button>
}

interface Cookie {
  readonly host: string
  readonly path: string
  readonly name: string
  readonly value: string
}

const decodeEntities = (text: string) =>
  text
    .replace(/&quot;/g, '"')
    .replace(/&#0*39;|&#x0*27;/gi, "'")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&amp;/g, "&")

const attributesOf = (tag: string): ReadonlyMap<string, string> => {
  const attributes = new Map<string, string>()
  for (const match of tag.matchAll(/([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g)) {
    attributes.set(match[1]!.toLowerCase(), decodeEntities(match[2] ?? match[3] ?? match[4] ?? ""))
  }
  return attributes
}

const buttonOf = (match: RegExpMatchArray): Button => {
  const attributes = attributesOf(match[1]!)
  return { name: attributes.get("name"), value: attributes.get("value") ?? "" }
}

/** Every form on the page, with its named inputs and the submit buttons that belong to it (inside, or via `form=`). */
const formsOf = (page: Page): ReadonlyArray<Form> =>
  [...page.html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((match) => {
    const attributes = attributesOf(match[1]!)
    const id = attributes.get("id")
    const fields = new Map<string, string>()
    for (const input of match[2]!.matchAll(/<input\b([^>]*)>/gi)) {
      const inputAttributes = attributesOf(input[1]!)
      const name = inputAttributes.get("name")
      if (name !== undefined && inputAttributes.get("type") !== "submit")
        fields.set(name, inputAttributes.get("value") ?? "")
    }
    const inside = [...match[2]!.matchAll(/<button\b([^>]*)>/gi)].map(buttonOf)
    const outside = [...page.html.matchAll(/<button\b([^>]*)>/gi)]
      .filter((button) => id !== undefined && attributesOf(button[1]!).get("form") === id)
      .map(buttonOf)
    return {
      id,
      action: new URL(attributes.get("action") || page.url.href, page.url),
      method: (attributes.get("method") ?? "get").toUpperCase(),
      fields,
      buttons: [...inside, ...outside]
    }
  })

/** What a person would read on a page that went wrong: its title, a red notice, or the provider's error text. */
const gist = (page: Page) => {
  const text = (pattern: RegExp) =>
    decodeEntities(
      (page.html.match(pattern)?.[1] ?? "")
        .replace(/<[^>]*>/g, " ")
        .replace(/\s+/g, " ")
        .trim()
    )
  const details = [
    text(/<title>([\s\S]*?)<\/title>/i),
    text(/<p class="red">([\s\S]*?)<\/p>/i),
    text(/<pre>([\s\S]*?)<\/pre>/i)
  ]
  return `HTTP ${page.status} at ${page.url.pathname}: ${details.filter((detail) => detail.length > 0).join(" | ")}`
}

const unexpected = (step: string, expected: string, page: Page) =>
  new Error(`oidc-provider browser, ${step}: expected ${expected}, got ${gist(page)}`)

const makeBrowser = () => {
  const jar = new Map<string, Cookie>()

  const pathMatches = (requestPath: string, cookiePath: string) =>
    requestPath === cookiePath ||
    (requestPath.startsWith(cookiePath) && (cookiePath.endsWith("/") || requestPath[cookiePath.length] === "/"))

  const cookieHeader = (url: URL) =>
    [...jar.values()]
      .filter((cookie) => cookie.host === url.host && pathMatches(url.pathname, cookie.path))
      .sort((a, b) => b.path.length - a.path.length)
      .map((cookie) => `${cookie.name}=${cookie.value}`)
      .join("; ")

  const remember = (url: URL, headers: ReadonlyArray<string>, now: number) => {
    for (const header of headers) {
      const [pair = "", ...rest] = header.split(";")
      const equals = pair.indexOf("=")
      if (equals <= 0) continue
      const name = pair.slice(0, equals).trim()
      const value = pair.slice(equals + 1).trim()
      const attributes = new Map(
        rest.map((attribute) => {
          const at = attribute.indexOf("=")
          return at < 0
            ? [attribute.trim().toLowerCase(), ""]
            : [attribute.slice(0, at).trim().toLowerCase(), attribute.slice(at + 1).trim()]
        })
      )
      const path = attributes.get("path") || url.pathname.slice(0, url.pathname.lastIndexOf("/")) || "/"
      const key = `${url.host} ${path} ${name}`
      const maxAge = attributes.get("max-age")
      const expires = attributes.get("expires")
      const gone =
        (maxAge !== undefined && Number(maxAge) <= 0) || (expires !== undefined && Date.parse(expires) <= now)
      if (gone) jar.delete(key)
      else jar.set(key, { host: url.host, path, name, value })
    }
  }

  /** One navigation: the request, then every redirect the way a browser follows it (POST becomes GET on 302/303). */
  const navigate = (method: string, target: URL, form?: URLSearchParams): Effect.Effect<Page, Error> =>
    Effect.gen(function* () {
      let url = target
      let body = form
      let verb = method
      for (let hop = 0; hop < 20; hop++) {
        const headers: Record<string, string> = { accept: "text/html" }
        const cookies = cookieHeader(url)
        if (cookies.length > 0) headers.cookie = cookies
        if (body !== undefined) headers["content-type"] = "application/x-www-form-urlencoded"
        const init: RequestInit = { method: verb, headers, redirect: "manual" }
        if (body !== undefined) init.body = body.toString()
        const here = url
        const response = yield* Effect.tryPromise({
          try: () => fetch(here, init),
          catch: (cause) => new Error(`oidc-provider browser: ${verb} ${here.pathname} failed: ${String(cause)}`)
        })
        remember(url, response.headers.getSetCookie(), yield* Clock.currentTimeMillis)
        const location = response.headers.get("location")
        if (response.status >= 300 && response.status < 400 && location !== null) {
          yield* Effect.promise(() => response.arrayBuffer())
          url = new URL(location, url)
          if (response.status === 303 || ((response.status === 301 || response.status === 302) && verb === "POST")) {
            verb = "GET"
            body = undefined
          }
          continue
        }
        const html = yield* Effect.promise(() => response.text())
        return { url, status: response.status, html }
      }
      return yield* Effect.fail(new Error(`oidc-provider browser: too many redirects from ${target.pathname}`))
    })

  /** Submits a form as a browser would: its fields, the typed-in values, and the pressed button's name=value. */
  const submit = (form: Form, typed: Record<string, string> = {}, pressed?: Button) => {
    const fields = new URLSearchParams([...form.fields])
    for (const [name, value] of Object.entries(typed)) fields.set(name, value)
    if (pressed?.name !== undefined) fields.set(pressed.name, pressed.value)
    return form.method === "GET"
      ? navigate("GET", new URL(`${form.action.origin}${form.action.pathname}?${fields}`))
      : navigate("POST", form.action, fields)
  }

  return { navigate, submit }
}

const findForm = (page: Page, step: string, expected: string, predicate: (form: Form) => boolean) => {
  const form = page.status === 200 ? formsOf(page).find(predicate) : undefined
  return form === undefined ? Effect.fail(unexpected(step, expected, page)) : Effect.succeed(form)
}

/** The device pages up to the confirmation prompt: verification page, user code entered, "Confirm Device". */
const toConfirmation = (issuer: string, userCode: string) =>
  Effect.gen(function* () {
    const browser = makeBrowser()
    const verification = yield* browser.navigate("GET", new URL("/device", issuer))
    const input = yield* findForm(
      verification,
      "verification page",
      "the user code form (op.deviceInputForm with xsrf and user_code)",
      (form) => form.id === "op.deviceInputForm" && form.fields.has("xsrf") && form.fields.has("user_code")
    )
    const confirmation = yield* browser.submit(input, { user_code: userCode })
    const confirm = yield* findForm(
      confirmation,
      `entering user code ${userCode}`,
      "the confirmation form (op.deviceConfirmForm)",
      (form) => form.id === "op.deviceConfirmForm" && form.fields.get("confirm") === "yes"
    )
    return { browser, confirmation, confirm }
  })

const approve = (issuer: string, userCode: string): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const { browser, confirm } = yield* toConfirmation(issuer, userCode)
    const loginPage = yield* browser.submit(confirm)
    const login = yield* findForm(
      loginPage,
      "confirming the device",
      "the sign-in form (prompt=login)",
      (form) => form.fields.get("prompt") === "login" && form.fields.has("login")
    )
    const consentPage = yield* browser.submit(login, { login: USER.sub, password: "any password" })
    const consent = yield* findForm(
      consentPage,
      "signing in",
      "the consent form (prompt=consent)",
      (form) => form.fields.get("prompt") === "consent"
    )
    const done = yield* browser.submit(consent)
    if (done.status !== 200 || !/<title>Sign-in Success<\/title>/.test(done.html)) {
      return yield* Effect.fail(unexpected("consenting", 'the "Sign-in Success" page', done))
    }
  })

const deny = (issuer: string, userCode: string): Effect.Effect<void, Error> =>
  Effect.gen(function* () {
    const { browser, confirmation, confirm } = yield* toConfirmation(issuer, userCode)
    const abort = confirm.buttons.find((button) => button.name === "abort")
    if (abort === undefined) {
      return yield* Effect.fail(
        unexpected("confirming the device", "an abort button on the confirmation page", confirmation)
      )
    }
    const aborted = yield* browser.submit(confirm, {}, abort)
    if (!aborted.html.includes("The Sign-in request was interrupted")) {
      return yield* Effect.fail(unexpected("aborting", 'the "Sign-in request was interrupted" notice', aborted))
    }
  })
