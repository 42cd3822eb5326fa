import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawnSync } from "node:child_process"
import { qrCodeText, qrColors } from "../src/cli/qrCode.js"

// The QR code as a person's phone sees it: the text drawn as a terminal draws it, in both themes, then decoded by
// zbar. DEVICECODE_REQUIRE_ZBAR=1 (CI) fails instead of skipping when zbarimg (Debian's zbar-tools) is missing.
const zbarInstalled = spawnSync("zbarimg", ["--version"], { stdio: "ignore" }).status === 0
const zbarRequired = process.env.DEVICECODE_REQUIRE_ZBAR === "1"
const suite = zbarInstalled || zbarRequired ? describe : describe.skip
const title = "the QR code decodes with zbarimg, as a terminal draws it"
const zbarTitle =
  zbarInstalled || zbarRequired
    ? title
    : `${title} — skipped: zbarimg is not installed (apt-get install zbar-tools); DEVICECODE_REQUIRE_ZBAR=1 makes this fail`

const urls = [
  "https://x.test/d",
  // 36 characters: codex's own verification page
  "https://auth.openai.com/codex/device",
  "https://auth.example.com/codex/device?user_code=ABCD-EFGHI&client_id=app_EMoamEEZ73f0CkXaXp7hrann&state=" +
    "q".repeat(60)
]

/** A terminal's theme: the colours of text and of the background where no SGR says otherwise (0 black, 255 white). */
interface Theme {
  readonly name: string
  readonly foreground: number
  readonly background: number
}
const darkOnLight: Theme = { name: "dark-on-light", foreground: 0, background: 255 }
const lightOnDark: Theme = { name: "light-on-dark", foreground: 255, background: 0 }

/** The grey level of an xterm 256-colour index past the 16 the theme owns: the 6×6×6 cube, then the grey ramp. */
const xterm256 = (index: number): number => {
  if (index >= 232) return 8 + 10 * (index - 232)
  if (index < 16) throw new Error(`palette colour ${index} is the theme's: the test cannot know it`)
  const level = (v: number) => (v === 0 ? 0 : 55 + 40 * v)
  const [r, g, b] = [Math.floor((index - 16) / 36), Math.floor((index - 16) / 6) % 6, (index - 16) % 6].map(level)
  return Math.round(0.2126 * r! + 0.7152 * g! + 0.0722 * b!)
}

/** What each half of a character cell shows: the glyph's colour or the background's. */
const halves: Record<string, readonly [boolean, boolean]> = {
  "█": [true, true],
  "▀": [true, false],
  "▄": [false, true],
  " ": [false, false]
}

/**
 * `text` as a terminal in `theme` draws it, as a binary PGM: each cell `scale` pixels wide and twice as high (a half
 * block is one module, square), `margin` cells of the theme's background around it. The SGR colours the QR code may
 * use are honoured (reset, default colours, 256-colour foreground and background); any other escape or character
 * fails the test.
 */
const screenshot = (text: string, theme: Theme, scale = 4, margin = 3): Buffer => {
  const rows = text.split("\n").map((line) => {
    const cells: Array<{ readonly top: number; readonly bottom: number }> = []
    let [foreground, background] = [theme.foreground, theme.background]
    for (const token of line.match(/\x1b\[[0-9;]*m|[\s\S]/gu) ?? []) {
      if (token.startsWith("\x1b[")) {
        const params = token.slice(2, -1).split(";").map(Number)
        for (let i = 0; i < params.length; i++) {
          const p = params[i]!
          if (p === 0) [foreground, background] = [theme.foreground, theme.background]
          else if (p === 39) foreground = theme.foreground
          else if (p === 49) background = theme.background
          else if ((p === 38 || p === 48) && params[i + 1] === 5) {
            const grey = xterm256(params[i + 2]!)
            if (p === 38) foreground = grey
            else background = grey
            i += 2
          } else throw new Error(`SGR ${p} is not one the QR code should use`)
        }
        continue
      }
      const half = halves[token]
      if (half === undefined) throw new Error(`not a QR code cell: ${JSON.stringify(token)}`)
      cells.push({ top: half[0] ? foreground : background, bottom: half[1] ? foreground : background })
    }
    return cells
  })
  const columns = Math.max(...rows.map((row) => row.length)) + 2 * margin
  const [width, height] = [columns * scale, (rows.length + 2 * margin) * 2 * scale]
  const pixels = Buffer.alloc(width * height, theme.background)
  rows.forEach((row, y) =>
    row.forEach((cell, x) => {
      for (let dy = 0; dy < 2 * scale; dy++) {
        const start = ((y + margin) * 2 * scale + dy) * width + (x + margin) * scale
        pixels.fill(dy < scale ? cell.top : cell.bottom, start, start + scale)
      }
    })
  )
  return Buffer.concat([Buffer.from(`P5\n${width} ${height}\n255\n`), pixels])
}

/** What zbarimg reads in `image`: the symbol's text, or `undefined` when it finds none (exit status 4). */
const zbar = (image: Buffer, options: { readonly tryInverted?: boolean } = {}) =>
  Effect.sync(() => {
    const args = ["--nodbus", "--raw", "-q", ...(options.tryInverted === true ? ["-Stest-inverted"] : []), "pgm:-"]
    const result = spawnSync("zbarimg", args, { input: image, encoding: "utf8" })
    if (result.status === 4) return undefined
    assert.strictEqual(result.status, 0, `zbarimg failed: ${result.stderr}`)
    return result.stdout.replace(/\n$/, "")
  })

const withoutEscapes = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, "")

describe("qrCodeText: the drawing", () => {
  it.effect("a quiet zone of 4 modules drawn light, 17 + 4 × version + 8 columns, half as many rows", () =>
    Effect.gen(function* () {
      for (const [url, side] of [
        ["https://auth.openai.com/codex/de", 33], // 32 characters, version 2 (25 modules)
        ["https://auth.openai.com/codex/device", 37], // 36 characters, version 3 (29 modules)
        [`https://auth.example.com/device?code=${"y".repeat(23)}`, 41] // 60 characters, version 4 (33 modules)
      ] as const) {
        const lines = (yield* qrCodeText(url)).split("\n")
        assert.strictEqual(lines.length, Math.ceil(side / 2), url)
        for (const line of lines) assert.strictEqual([...line].length, side, url)
        const full = "█".repeat(side)
        assert.deepStrictEqual([lines[0], lines[1], lines.at(-2), lines.at(-1)], [full, full, full, full])
        for (const line of lines) assert.isTrue(line.startsWith("████") && line.endsWith("████"), line)
      }
    })
  )

  it.effect("stays within 80 columns for a 200-character URL", () =>
    Effect.gen(function* () {
      const url = `https://auth.example.com/activate?user_code=ABCD-EFGH&x=${"y".repeat(200)}`.slice(0, 200)
      const lines = (yield* qrCodeText(url)).split("\n")
      assert.strictEqual([...lines[0]!].length, 61, "version 9: 53 modules and the quiet zone")
      for (const line of lines) assert.isAtMost([...line].length, 80)
    })
  )

  it.effect("plain: no escape byte; with colour: each row white on black from the 256-colour cube, then reset", () =>
    Effect.gen(function* () {
      for (const url of urls) {
        const plain = yield* qrCodeText(url)
        assert.notInclude(plain, "\x1b")
        assert.strictEqual(yield* qrCodeText(url, { color: false }), plain)
        const colored = yield* qrCodeText(url, { color: true })
        assert.strictEqual(qrColors, "\x1b[38;5;231;48;5;16m")
        for (const line of colored.split("\n")) assert.match(line, /^\x1b\[38;5;231;48;5;16m[█▀▄ ]+\x1b\[0m$/u)
        assert.strictEqual(withoutEscapes(colored), plain, "without the colours it is the plain drawing")
      }
    })
  )
})

suite(zbarTitle, () => {
  const requireZbar = Effect.suspend(() =>
    zbarInstalled ? Effect.void : Effect.sync(() => assert.fail("DEVICECODE_REQUIRE_ZBAR=1 but zbarimg is missing"))
  )

  it.effect("with colour: decodes on a dark-on-light and on a light-on-dark terminal", () =>
    Effect.gen(function* () {
      yield* requireZbar
      for (const url of urls) {
        const colored = yield* qrCodeText(url, { color: true })
        for (const theme of [darkOnLight, lightOnDark]) {
          assert.strictEqual(yield* zbar(screenshot(colored, theme)), url, `${theme.name}: ${url}`)
          assert.strictEqual(yield* zbar(screenshot(colored, theme, 2)), url, `${theme.name}, 2 px a module: ${url}`)
        }
      }
    })
  )

  it.effect(
    "plain: right on a light-on-dark terminal, inverted on a dark-on-light one (read only by trying the inverse)",
    () =>
      Effect.gen(function* () {
        yield* requireZbar
        for (const url of urls) {
          const plain = yield* qrCodeText(url)
          assert.strictEqual(yield* zbar(screenshot(plain, lightOnDark)), url, url)
          assert.strictEqual(yield* zbar(screenshot(plain, darkOnLight)), undefined, `an inverted code: ${url}`)
          assert.strictEqual(yield* zbar(screenshot(plain, darkOnLight), { tryInverted: true }), url, url)
        }
      })
  )

  it.effect("a broken code does not decode: the test can fail", () =>
    Effect.gen(function* () {
      yield* requireZbar
      const url = urls[1]!
      const lines = (yield* qrCodeText(url, { color: true })).split("\n")
      // the top-left finder pattern and its separator (columns 0-6 of module rows 0-7, inside the quiet zone) painted light
      const broken = lines.map((line, row) =>
        row >= 2 && row <= 5 ? line.replace(/^(\x1b\[[0-9;]*m)(.{4}).{7}/u, `$1$2${"█".repeat(7)}`) : line
      )
      assert.notStrictEqual(broken.join("\n"), lines.join("\n"))
      for (const theme of [darkOnLight, lightOnDark]) {
        assert.strictEqual(yield* zbar(screenshot(broken.join("\n"), theme)), undefined, theme.name)
      }
    })
  )
})
