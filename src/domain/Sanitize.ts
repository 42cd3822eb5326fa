/**
 * Text a server, a file or a person chose, made safe for a terminal or a log: every character that could move the
 * cursor, change the screen, the title or the clipboard, or reorder what is shown is written as a visible escape.
 */

// C0 controls, DEL, C1 controls (U+009B is CSI on its own), the line and paragraph separators, and the bidirectional
// marks, embeddings, overrides and isolates (the "Trojan Source" characters).
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g
const UNSAFE_BUT_NEWLINE =
  /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g

const named: Readonly<Record<string, string>> = { "\n": "\\n", "\r": "\\r", "\t": "\\t" }

const hex = (code: number, width: number) => code.toString(16).padStart(width, "0")

/** How one unsafe character is shown: `\n`, `\r`, `\t`, `\x1b` (C0 and DEL), `\u009b` (anything above). */
export const escapeChar = (char: string): string => {
  const code = char.charCodeAt(0)
  return named[char] ?? (code <= 0x7f ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`)
}

/** Options of {@link sanitize}. */
export interface SanitizeOptions {
  /** Keep `\n` (a text of several lines, such as a stack trace); every other control is still escaped. */
  readonly multiline?: boolean
}

/**
 * `text` with every control character (C0, DEL, C1; `\n` kept only with `multiline`), line separator and bidi
 * control escaped, so `ESC[2J` prints as `\x1b[2J` and clears nothing. Idempotent; safe text is returned unchanged.
 */
export const sanitize = (text: string, options: SanitizeOptions = {}): string =>
  text.replace(options.multiline === true ? UNSAFE_BUT_NEWLINE : UNSAFE, escapeChar)

/** Whether `text` holds nothing {@link sanitize} would escape (`\n` allowed with `multiline`). */
export const isSafe = (text: string, options: SanitizeOptions = {}): boolean => sanitize(text, options) === text

/**
 * JSON text with the characters `JSON.stringify` leaves raw (DEL, C1, separators, bidi controls) written as `\uXXXX`
 * escapes: the same JSON value, and nothing a terminal showing the line would act on.
 */
export const escapeJsonText = (json: string): string =>
  json.replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g,
    (char) => `\\u${hex(char.charCodeAt(0), 4)}`
  )
