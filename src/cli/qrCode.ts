import * as Effect from "effect/Effect"

/** The light margin around the symbol, in modules: the 4 of the QR standard (ISO/IEC 18004); zbar reads it from 1. */
export const quietZone = 4

/**
 * White glyphs on a black background from the 256-colour cube (231 is #ffffff, 16 is #000000): fixed colours, unlike
 * the 16 of the palette, which themes remap (gruvbox-light swaps black and white).
 */
export const qrColors = "\x1b[38;5;231;48;5;16m"

const reset = "\x1b[0m"

/** The character cell of two modules, one above the other: light modules are drawn, dark ones left to the background. */
const halfBlock = (topLight: boolean, bottomLight: boolean): string =>
  topLight ? (bottomLight ? "█" : "▀") : bottomLight ? "▄" : " "

/**
 * A QR code of `text` in Unicode half blocks, two modules to a character cell, with a quiet zone of {@link quietZone}
 * modules: 17 + 4 × version + 8 columns (37 for a 36-character URL, 41 for a 60-character one) and half as many rows,
 * rounded up. Light modules are the glyphs and dark ones the background, so the plain text is a right QR code on a
 * light-on-dark terminal and an inverted one on a dark-on-light terminal (which only readers that try the inverse, such
 * as `zbarimg -Stest-inverted`, decode). With `color` each row is wrapped in {@link qrColors}, white on black whatever
 * the theme, and reads on every terminal; without the escapes it is the plain text. Error correction L keeps it small.
 */
export const qrCodeText = (text: string, options: { readonly color?: boolean } = {}): Effect.Effect<string> =>
  Effect.promise(async () => {
    const { default: QRCode } = await import("qrcode")
    const { modules } = QRCode.create(text, { errorCorrectionLevel: "L" })
    const side = modules.size + 2 * quietZone
    // outside the symbol is quiet zone, and so is the half row that rounds the odd side up to whole cells
    const light = (row: number, column: number): boolean => {
      const [r, c] = [row - quietZone, column - quietZone]
      return r < 0 || c < 0 || r >= modules.size || c >= modules.size || !modules.get(r, c)
    }
    return Array.from({ length: Math.ceil(side / 2) }, (_, cell) => {
      const line = Array.from({ length: side }, (_, column) =>
        halfBlock(light(2 * cell, column), light(2 * cell + 1, column))
      ).join("")
      return options.color === true ? `${qrColors}${line}${reset}` : line
    }).join("\n")
  })
