// README.md and docs/*.md: every relative link resolves to a file of the repository, and every #anchor to a heading
// of its target (GitHub's slugs); the README stays short enough to take in at a glance.
import { assert, describe, it } from "@effect/vitest"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { dirname, join, normalize } from "node:path"

const documents = [
  "README.md",
  ...readdirSync("docs")
    .filter((name) => name.endsWith(".md"))
    .map((name) => `docs/${name}`)
]

/** GitHub's anchor of a heading: lower case, punctuation dropped but `-` and `_`, spaces as `-`. */
const slug = (heading: string): string =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-")

/** The anchors of a Markdown file's headings, numbered as GitHub numbers repeats (`x`, `x-1`, …). */
const anchorsOf = (file: string): ReadonlySet<string> => {
  const seen = new Map<string, number>()
  const anchors = new Set<string>()
  let fenced = false
  for (const line of readFileSync(file, "utf8").split("\n")) {
    if (line.startsWith("```")) fenced = !fenced
    const heading = fenced ? null : /^#{1,6} (.+)$/.exec(line)
    if (!heading) continue
    const base = slug(heading[1]!)
    const count = seen.get(base) ?? 0
    seen.set(base, count + 1)
    anchors.add(count === 0 ? base : `${base}-${count}`)
  }
  return anchors
}

/** The targets of a Markdown file's inline links, outside code blocks and code spans. */
const linksOf = (file: string): ReadonlyArray<string> => {
  const text = readFileSync(file, "utf8")
    .replace(/```[\s\S]*?```/g, "")
    .replace(/`[^`\n]*`/g, "")
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!)
}

describe("the documentation", () => {
  it("README.md is at most 250 lines and links to each of docs/", () => {
    const readme = readFileSync("README.md", "utf8")
    assert.isAtMost(readme.split("\n").length, 250)
    for (const doc of documents.slice(1)) assert.include(linksOf("README.md"), doc, `README links to ${doc}`)
  })

  it("every relative link and anchor in README.md and docs/ resolves", () => {
    const broken: Array<string> = []
    let checked = 0
    for (const file of documents) {
      for (const link of linksOf(file)) {
        if (/^[a-z]+:/i.test(link)) continue
        checked++
        const [path, anchor] = link.split("#") as [string, string | undefined]
        const target = path === "" ? file : normalize(join(dirname(file), path))
        if (!existsSync(target)) {
          broken.push(`${file}: ${link} (no ${target})`)
          continue
        }
        if (anchor !== undefined && target.endsWith(".md") && !anchorsOf(target).has(anchor)) {
          broken.push(`${file}: ${link} (no heading #${anchor} in ${target})`)
        }
      }
    }
    assert.isAbove(checked, 20)
    assert.deepStrictEqual(broken, [])
  })
})
