import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { LocalIssuer } from "../../src/testing/index.js"
import { describeWithSecretService } from "../support/secretService.js"
import { allowedDifferences } from "./allowedDifferences.js"
import { type Scenario, scenarios, Side } from "./scenarios.js"
import { classify, staleEntries } from "./support/allowed.js"
import { codexVersions, describeWithCodex, ensureCodex } from "./support/codexBinary.js"
import { authRequests, compareCrossRead, compareObservations, maskedJsonText } from "./support/compare.js"
import { maskText } from "./support/mask.js"
import type { Comparison, Observation } from "./support/observation.js"
import { type Home, makeBrowser, runStep } from "./support/run.js"

// Finds (or installs, once) every codex version before any test is collected: minutes on a first run, then instant.
const codex = ensureCodex()

const SCENARIO_TIMEOUT_MS = 90_000

/** The runs that reached a comparison, and the allowed differences each used (for the stale check at the end). */
const completed: Array<{ readonly scenario: string; readonly version: string; readonly used: ReadonlySet<string> }> = []

/** With DEVICECODE_CONFORMANCE_DEBUG=1, what each side did, masked (no secret is printed). */
const debug = (title: string, observation: Observation): void => {
  if (process.env.DEVICECODE_CONFORMANCE_DEBUG !== "1") return
  const mask = (text: string) => maskText(text, observation.known)
  const maskJson = (text: string) => {
    try {
      return maskedJsonText(text, JSON.parse(text), observation.known)
    } catch {
      return text
    }
  }
  const out = [`--- ${title}`]
  for (const r of authRequests(observation)) out.push(`request ${r.method} ${r.path}${r.search} -> ${r.status}`)
  for (const step of observation.steps) {
    out.push(
      `step ${step.label}: exit ${step.exit}`,
      `  stdout: ${JSON.stringify(mask(step.stdout))}`,
      `  stderr: ${JSON.stringify(mask(step.stderr))}`
    )
  }
  for (const snap of observation.snapshots) {
    for (const file of snap.files) {
      out.push(`${snap.label}: ${file.path} ${file.type} ${file.mode.toString(8)} ${file.size}`)
      if (file.content !== undefined) out.push(`  ${JSON.stringify(mask(maskJson(file.content)))}`)
    }
    for (const item of snap.keyring ?? []) {
      out.push(`${snap.label}: keyring ${mask(JSON.stringify({ ...item, secret: maskJson(item.secret) }))}`)
    }
  }
  console.log(out.join("\n"))
}

/** Plays one scenario with both tools against one LocalIssuer, compares, prints one line, and fails on a difference. */
const conformance = (scenario: Scenario, version: string, codexBinary: string) =>
  Effect.gen(function* () {
    const browser = makeBrowser()
    const issuer = yield* LocalIssuer.make({ interval: "1 second", onRequest: browser.onRequest })
    browser.attach(issuer)
    const context = {
      issuer,
      browser,
      version,
      codexBinary,
      config: scenario.config ?? "",
      keyring: scenario.keyring === true
    }
    const codexSide = new Side("codex", context)
    const codexHome = yield* scenario.play(codexSide)
    const devicecodeSide = new Side("devicecode", context)
    const devicecodeHome = yield* scenario.play(devicecodeSide)
    debug(`codex ${version} ${scenario.name}: codex`, codexSide.observation(codexHome))
    debug(`codex ${version} ${scenario.name}: devicecode`, devicecodeSide.observation(devicecodeHome))
    const comparisons: Array<Comparison> = [
      compareObservations(codexSide.observation(codexHome), devicecodeSide.observation(devicecodeHome))
    ]
    const known = (side: Side, home: Home) => side.observation(home).known
    if (scenario.crossRead !== undefined) {
      for (const [side, theirs, tool] of [
        [codexSide, devicecodeHome, "codex"],
        [devicecodeSide, codexHome, "devicecode"]
      ] as const) {
        const own = side.steps.at(-1)!
        const { step } = yield* runStep(context, tool, theirs, own.label, scenario.crossRead)
        const ownHome = tool === "codex" ? codexHome : devicecodeHome
        comparisons.push(
          compareCrossRead({
            tool,
            own,
            ownKnown: known(side, ownHome),
            other: step,
            otherKnown: known(side, theirs)
          })
        )
      }
    }
    const fields = comparisons.reduce((sum, comparison) => sum + comparison.fields, 0)
    const differences = comparisons.flatMap((comparison) => comparison.differences)
    const { allowed, unexpected } = classify(allowedDifferences, scenario.name, version, differences)
    completed.push({ scenario: scenario.name, version, used: new Set(allowed.map(({ entry }) => entry.id)) })
    const ids = [...new Set(allowed.map(({ entry }) => entry.id))]
    console.log(
      `conformance codex ${version} ${scenario.name}: ${fields} fields compared, ${unexpected.length} difference${unexpected.length === 1 ? "" : "s"}` +
        (ids.length > 0 ? ` (and ${allowed.length} allowed: ${ids.join(", ")})` : "")
    )
    if (unexpected.length > 0) {
      assert.fail(
        `codex ${version} ${scenario.name}: ${unexpected.length} difference${unexpected.length === 1 ? "" : "s"} not in test/conformance/allowedDifferences.ts:\n` +
          unexpected.map((difference) => `  - ${difference.message}`).join("\n")
      )
    }
  })

const title = "devicecode against the real codex (test/conformance)"

describeWithCodex(codex, title, "compares devicecode with codex", (binaries) => {
  describe.concurrent("scenarios", () => {
    for (const scenario of scenarios.filter((s) => s.keyring !== true)) {
      for (const version of codexVersions) {
        it.scopedLive(
          `codex ${version} ${scenario.name}`,
          () => conformance(scenario, version, binaries.get(version)!),
          SCENARIO_TIMEOUT_MS
        )
      }
    }
  })

  describeWithSecretService("scenarios with the keyring store (real Secret Service)", () => {
    for (const scenario of scenarios.filter((s) => s.keyring === true)) {
      for (const version of codexVersions) {
        it.scopedLive(
          `codex ${version} ${scenario.name}`,
          () => conformance(scenario, version, binaries.get(version)!),
          SCENARIO_TIMEOUT_MS
        )
      }
    }
  })

  it("every allowed difference still occurs (test/conformance/allowedDifferences.ts)", () => {
    const stale = staleEntries(allowedDifferences, completed)
    for (const entry of stale) console.log(`conformance: allowed difference ${entry.id} no longer occurs (stale)`)
    assert.deepStrictEqual(
      stale.map((entry) => `${entry.id}: ${entry.what}`),
      [],
      "allowed differences that no run needed: remove them, or narrow their scenarios/versions"
    )
  })
})
