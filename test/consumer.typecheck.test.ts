// A consumer project (test/fixtures/consumer: ESM, strict, skipLibCheck false, NodeNext) typechecks against the built
// package as npm would install it: node_modules/devicecode links to this repository, so `exports` picks dist/*.d.ts.
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { spawn } from "node:child_process"
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from "node:fs"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { tempDir } from "./support/tmp.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const fixture = join(root, "test/fixtures/consumer")

/** What the consumer's node_modules holds: devicecode itself and the packages the consumer imports directly. */
const installed: Record<string, string> = {
  devicecode: root,
  effect: join(root, "node_modules/effect"),
  "@effect/platform": join(root, "node_modules/@effect/platform"),
  "@effect/platform-node": join(root, "node_modules/@effect/platform-node"),
  "@effect/vitest": join(root, "node_modules/@effect/vitest"),
  vitest: join(root, "node_modules/vitest"),
  "@types/node": join(root, "node_modules/@types/node")
}

/** The consumer's files that are programs of the documentation: each is the first TypeScript block after a heading. */
const documented: ReadonlyArray<readonly [fixture: string, document: string, heading: string]> = [
  ["index.ts", "docs/library.md", "## Library"],
  ["signIn.ts", "docs/library.md", "### Signing in from an app"],
  ["browserSignIn.ts", "docs/library.md", "### Signing in through a browser from an app"],
  ["logout.ts", "docs/library.md", "### Signing out from an app"],
  ["apiKey.ts", "docs/library.md", "### Storing an API key from an app"],
  ["kit.ts", "docs/library.md", "### Testing with the kit"],
  ["testclock.ts", "docs/library.md", "### A TestClock test of a login and a refresh"],
  ["compose.ts", "docs/library.md", "### Composing by hand"],
  ["brief.ts", "README.md", "## The library in brief"]
]

/** A copy of the fixture in a fresh directory, with its node_modules linked. */
const consumerProject = Effect.gen(function* () {
  const dir = yield* tempDir
  cpSync(fixture, dir, { recursive: true })
  for (const [name, target] of Object.entries(installed)) {
    const link = join(dir, "node_modules", name)
    mkdirSync(dirname(link), { recursive: true })
    symlinkSync(target, link, "dir")
  }
  return dir
})

/** The repository's tsc on a project: its exit code and output. */
const tsc = (project: string) =>
  Effect.async<{ readonly code: number | null; readonly output: string }>((resume) => {
    const child = spawn(join(root, "node_modules/.bin/tsc"), ["-p", project, "--pretty", "false"], {
      cwd: project,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let output = ""
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString("utf8")))
    child.once("close", (code) => resume(Effect.succeed({ code, output })))
    return Effect.sync(() => void child.kill())
  })

/** The first TypeScript block of a Markdown file after `heading`. */
const firstProgram = (file: string, heading: string): string => {
  const text = readFileSync(join(root, file), "utf8")
  const section = text.slice(text.indexOf(`\n${heading}\n`))
  const block = /```ts\n([\s\S]*?)```/.exec(section)
  return block?.[1] ?? ""
}

describe("a consumer TypeScript project (strict, skipLibCheck false, NodeNext)", () => {
  it.scopedLive(
    'typechecks imports of "devicecode" and "devicecode/testing" from the built package',
    () =>
      Effect.gen(function* () {
        for (const file of ["dist/index.d.ts", "dist/testing/index.d.ts"]) {
          assert.isTrue(existsSync(join(root, file)), `${file} not found: run \`npm run build\` first`)
        }
        const project = yield* consumerProject
        const result = yield* tsc(project)
        assert.strictEqual(result.code, 0, `tsc -p ${project} failed:\n${result.output}`)
      }),
    60_000
  )

  it.effect("its files are the programs of docs/library.md and README.md, byte for byte", () =>
    Effect.sync(() => {
      for (const [file, document, heading] of documented) {
        const program = firstProgram(document, heading)
        assert.isNotEmpty(program, `${document} has no TypeScript block after "${heading}"`)
        assert.strictEqual(
          readFileSync(join(fixture, file), "utf8"),
          program,
          `${file} is not ${document}'s "${heading}"`
        )
      }
    })
  )
})
