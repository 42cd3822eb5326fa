/** Escapes text for HTML element content and attribute values. */
export const escapeHtml = (text: string): string => text.replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`)

/** A small self-contained page of the callback server (no script, no outside resource): a title and paragraphs. */
export const callbackPage = (title: string, paragraphs: ReadonlyArray<string>): string =>
  `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; }
  main { width: min(30rem, 92vw); padding: 2rem; }
  h1 { font-size: 1.3rem; }
  p { line-height: 1.5; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${paragraphs.map((text) => `<p>${escapeHtml(text)}</p>`).join("\n")}
</main>
</body>
</html>
`

/** What `/success` shows once the sign-in is saved. */
export const SUCCESS_PAGE = callbackPage("Signed in", [
  "You are signed in. You can close this window and go back to the terminal."
])

/** The error codex's issuer sends when the workspace has no Codex (`access_denied` with this description). */
export const MISSING_CODEX_ENTITLEMENT = "missing_codex_entitlement"

/** What the terminal says for {@link MISSING_CODEX_ENTITLEMENT} (codex's words). */
export const CODEX_NOT_ENABLED =
  "Codex is not enabled for your workspace. Contact your workspace administrator to request access to Codex."

/** The page for a sign-in that could not be completed; `reason` is already sanitised. */
export const failedPage = (reason: string): string =>
  callbackPage("Sign-in could not be completed", [
    reason,
    "Return to the terminal to retry, switch accounts, or contact your workspace admin if access is restricted."
  ])

/** The page for {@link MISSING_CODEX_ENTITLEMENT} (codex's words). */
export const NO_CODEX_ACCESS_PAGE = callbackPage("You do not have access to Codex", [
  "This account is not currently authorized to use Codex in this workspace.",
  "Contact your workspace administrator to request access to Codex."
])
