import * as Data from "effect/Data"
import * as Effect from "effect/Effect"

/** The approval page did not behave as a browser expects. */
export class BrowserError extends Data.TaggedError("BrowserError")<{ readonly detail: string }> {
  override get message(): string {
    return `approval page: ${this.detail}`
  }
}

const fetchText = (url: string, init?: RequestInit) =>
  Effect.tryPromise({
    try: async (signal) => {
      const response = await fetch(url, { ...init, signal, redirect: "follow" })
      return { status: response.status, text: await response.text() }
    },
    catch: (error) => new BrowserError({ detail: `${url}: ${error instanceof Error ? error.message : String(error)}` })
  })

// the entities escapeHtml writes (&#NN;), and &amp;
const unescapeHtml = (text: string): string =>
  text.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code))).replace(/&amp;/g, "&")

/**
 * Opens `pageUrl` and submits its form as a browser does: its hidden fields, then `fields` (a typed code, the button
 * pressed), POSTed to the form's action, redirects followed. The last page's status and text.
 */
const submitForm = (pageUrl: string, fields: ReadonlyArray<[string, string]>) =>
  Effect.gen(function* () {
    const page = yield* fetchText(pageUrl)
    if (page.status !== 200) return yield* new BrowserError({ detail: `GET answered ${page.status}` })
    const form = /<form[^>]*method="post"[^>]*action="([^"]*)"/i.exec(page.text)
    if (!form) return yield* new BrowserError({ detail: "no form on the page" })
    const hidden = [...page.text.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map(
      ([, name, value]) => [unescapeHtml(name!), unescapeHtml(value!)] as [string, string]
    )
    return yield* fetchText(new URL(unescapeHtml(form[1]!), pageUrl).toString(), {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams([...hidden, ...fields]).toString()
    })
  })

/**
 * Does what a person at a browser does: opens the verification page, finds its form, types the code and presses
 * Approve or Deny. Only HTTP, like a browser: no shortcut into the issuer.
 */
export const submitUserCode = (
  verificationUri: string,
  userCode: string,
  action: "approve" | "deny" = "approve"
): Effect.Effect<string, BrowserError> =>
  Effect.gen(function* () {
    const result = yield* submitForm(verificationUri, [
      ["user_code", userCode],
      ["action", action]
    ])
    if (result.status !== 200) return yield* new BrowserError({ detail: `POST answered ${result.status}` })
    return result.text
  })

/**
 * Does what a person at a browser does with a browser login's sign-in page (LocalIssuer's `/oauth/authorize`): opens
 * the authorization URL, presses Approve or Deny (its form, hidden fields and all, POSTed back), and follows where the
 * issuer sends the browser: the login's callback, then its `/success` page. Returns the text of the last page.
 */
export const submitAuthorization = (
  authorizeUrl: string,
  action: "approve" | "deny" = "approve"
): Effect.Effect<string, BrowserError> =>
  Effect.map(submitForm(authorizeUrl, [["action", action]]), (result) => result.text)
