import * as Effect from "effect/Effect"

/**
 * A QR code of `text` drawn with Unicode half blocks (two modules a character, no colour codes), with a quiet zone of
 * two modules: about 40 columns for a 60-character URL. Error correction L keeps it small; a screen is not smudged.
 */
export const qrCodeText = (text: string): Effect.Effect<string> =>
  Effect.promise(async () => {
    const { default: QRCode } = await import("qrcode")
    const drawn = await QRCode.toString(text, { type: "utf8", errorCorrectionLevel: "L", margin: 2 })
    return drawn.replace(/\n+$/, "")
  })
