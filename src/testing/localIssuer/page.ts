import { escapeHtml } from "../../domain/CallbackPages.js"

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: #f4f4f5; }
  main { width: min(26rem, 92vw); padding: 2rem; border-radius: 12px; background: #fff; box-shadow: 0 2px 12px #0002; }
  h1 { margin-top: 0; font-size: 1.3rem; }
  p { line-height: 1.5; }
  label { display: block; margin-bottom: .4rem; font-weight: 600; }
  input { box-sizing: border-box; width: 100%; padding: .6rem; font: 1.3rem ui-monospace, monospace;
    letter-spacing: .12em; text-transform: uppercase; border: 1px solid #bbb; border-radius: 8px; }
  .actions { display: flex; gap: .6rem; margin-top: 1rem; }
  button { flex: 1; padding: .6rem; font-size: 1rem; border: 0; border-radius: 8px; cursor: pointer; }
  .approve { background: #10a37f; color: #fff; }
  .deny { background: #e4e4e7; color: #18181b; }
  .note { color: #71717a; font-size: .85rem; }
  @media (prefers-color-scheme: dark) {
    body { background: #18181b; } main { background: #27272a; color: #f4f4f5; }
    input { background: #18181b; color: #f4f4f5; border-color: #52525b; }
  }
`

const layout = (title: string, body: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`

// the end of both forms: approve / deny (the field `action`), and a word of caution
const DECISION = `<div class="actions">
<button class="approve" type="submit" name="action" value="approve">Approve</button>
<button class="deny" type="submit" name="action" value="deny">Deny</button>
</div>
</form>
<p class="note">Local test issuer. Approve only a sign-in you started yourself.</p>`

/** The approval form: a user-code input and approve / deny buttons that POST back to the same path. */
export const approvalPage = (options: { readonly action: string; readonly userCode: string }): string =>
  layout(
    "Device sign-in",
    `<h1>Sign in a device</h1>
<p>Enter the code shown in your terminal.</p>
<form method="post" action="${escapeHtml(options.action)}">
<label for="user_code">Code</label>
<input id="user_code" name="user_code" value="${escapeHtml(options.userCode)}" placeholder="XXXX-XXXXX"
  autocomplete="off" autocapitalize="characters" spellcheck="false" required autofocus>
${DECISION}`
  )

const backLink = (href: string): string => `\n<p><a href="${escapeHtml(href)}">Enter another code</a></p>`

/** The page shown after a form POST. */
export const resultPage = (title: string, message: string, backTo?: string): string =>
  layout(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p>${escapeHtml(message)}</p>${backTo === undefined ? "" : backLink(backTo)}`
  )

/**
 * The browser login's sign-in page: who signs in where, and approve / deny buttons that POST the authorization
 * request's parameters back to `action`.
 */
export const authorizePage = (options: {
  readonly action: string
  readonly redirectUri: string
  readonly params: ReadonlyArray<readonly [string, string]>
}): string =>
  layout(
    "Sign in",
    `<h1>Sign in to the local test issuer</h1>
<p>An app asks to sign you in. It will get your tokens at <code>${escapeHtml(options.redirectUri)}</code>.</p>
<form method="post" action="${escapeHtml(options.action)}">
${options.params.map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`).join("\n")}
${DECISION}`
  )
