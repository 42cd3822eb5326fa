import { type KnownValues, maskText, maskTimes, maskValue, RANDOM_KEYS, scrubSecrets, shapeOf } from "./mask.js"
import type {
  Comparison,
  CrossRead,
  Difference,
  FileEntry,
  KeyringItem,
  Observation,
  RecordedRequest,
  Snapshot,
  StepOutput
} from "./observation.js"

/** The sign-in endpoints: every request to them is compared. Anything else is codex's API traffic (codex exec). */
export const AUTH_PATHS: ReadonlySet<string> = new Set([
  "/api/accounts/deviceauth/usercode",
  "/api/accounts/deviceauth/token",
  "/oauth/token",
  "/oauth/revoke"
])

const POLL_PATH = "/api/accounts/deviceauth/token"

const show = (value: string | undefined): string => (value === undefined ? "none" : JSON.stringify(value))

/** Counts the fields compared and collects the ones that differ. */
class Fields {
  count = 0
  readonly differences: Array<Difference> = []

  /** Compares one field; `verb` says what a side does with it ("sends", "writes", "prints"). */
  check(field: string, codex: string | undefined, devicecode: string | undefined, verb: string): boolean {
    this.count++
    if (codex === devicecode) return true
    this.differ(
      field,
      codex,
      devicecode,
      `${field}: codex ${verb} ${show(codex)}, devicecode ${verb} ${show(devicecode)}`
    )
    return false
  }

  /** Records a difference; its texts are scrubbed of anything shaped like a secret, whatever built them. */
  differ(field: string, codex: string | undefined, devicecode: string | undefined, message: string): void {
    const scrub = (text: string | undefined) => (text === undefined ? undefined : scrubSecrets(text))
    this.differences.push({ field, codex: scrub(codex), devicecode: scrub(devicecode), message: scrubSecrets(message) })
  }
}

// ---------------------------------------------------------------------------------------------------------------
// JSON, forms and raw bytes

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A JSON value as compared: a string as itself, anything else as `JSON <text>` (so "5" and 5 differ). */
const render = (key: string, value: unknown, known: KnownValues): string | undefined => {
  if (value === undefined) return undefined
  const masked = maskValue(key, value, known)
  return typeof masked === "string" ? masked : `JSON ${JSON.stringify(masked)}`
}

/** Compares two parsed JSON values: key sets, key order at every level, then each value (random ones by shape). */
const compareJson = (
  fields: Fields,
  label: string,
  verb: string,
  codex: unknown,
  devicecode: unknown,
  path: string,
  known: readonly [KnownValues, KnownValues]
): void => {
  const key = path.split(".").at(-1) ?? ""
  const where = `${label} ${path === "" ? "(top level)" : path}`
  if (isRecord(codex) && isRecord(devicecode)) {
    const codexKeys = Object.keys(codex)
    const devicecodeKeys = Object.keys(devicecode)
    const common = (keys: ReadonlyArray<string>, other: ReadonlyArray<string>) => keys.filter((k) => other.includes(k))
    fields.check(
      `${label} key order at ${path === "" ? "the top level" : path}`,
      common(codexKeys, devicecodeKeys).join(", "),
      common(devicecodeKeys, codexKeys).join(", "),
      "orders"
    )
    for (const name of [...codexKeys, ...devicecodeKeys.filter((k) => !codexKeys.includes(k))]) {
      const child = path === "" ? name : `${path}.${name}`
      if (!(name in codex) || !(name in devicecode)) {
        fields.check(
          `${label} ${child}`,
          render(name, codex[name], known[0]),
          render(name, devicecode[name], known[1]),
          verb
        )
      } else {
        compareJson(fields, label, verb, codex[name], devicecode[name], child, known)
      }
    }
    return
  }
  if (Array.isArray(codex) && Array.isArray(devicecode)) {
    fields.check(`${where} length`, String(codex.length), String(devicecode.length), verb)
    codex.forEach((item, i) => {
      if (i < devicecode.length) compareJson(fields, label, verb, item, devicecode[i], `${path}[${i}]`, known)
    })
    return
  }
  fields.check(where, render(key, codex, known[0]), render(key, devicecode, known[1]), verb)
}

/** Every random string value in a parsed JSON document, with its masked JSON text. */
const randomStrings = (value: unknown, key: string, known: KnownValues, into: Map<string, string>): void => {
  if (Array.isArray(value)) value.forEach((item) => randomStrings(item, key, known, into))
  else if (isRecord(value)) for (const [name, child] of Object.entries(value)) randomStrings(child, name, known, into)
  else if (typeof value === "string") {
    const masked = maskValue(key, value, known)
    if (masked !== value) into.set(JSON.stringify(value), JSON.stringify(masked))
  }
}

/** The JSON text with each random value replaced by its shape: what "byte for byte" means here. */
export const maskedJsonText = (text: string, parsed: unknown, known: KnownValues): string => {
  const replacements = new Map<string, string>()
  randomStrings(parsed, "", known, replacements)
  let masked = text
  for (const [raw, shape] of replacements) masked = masked.split(raw).join(shape)
  return masked
}

const decode = (text: string): string => {
  try {
    return decodeURIComponent(text.replace(/\+/g, " "))
  } catch {
    return text
  }
}

const maskedFormText = (text: string): string =>
  text
    .split("&")
    .map((pair) => {
      const [name = "", ...rest] = pair.split("=")
      return RANDOM_KEYS.has(decode(name)) && rest.length > 0 ? `${name}=${shapeOf(decode(rest.join("=")))}` : pair
    })
    .join("&")

/** Where two texts first differ, with a little context, for a bytes difference a person can read. */
const firstDifference = (codex: string, devicecode: string): string => {
  let i = 0
  while (i < codex.length && i < devicecode.length && codex[i] === devicecode[i]) i++
  if (i === codex.length && i === devicecode.length - 1 && devicecode.endsWith("\n")) {
    return "devicecode's ends with a newline, codex's does not"
  }
  if (i === devicecode.length && i === codex.length - 1 && codex.endsWith("\n")) {
    return "codex's ends with a newline, devicecode's does not"
  }
  const around = (text: string) => JSON.stringify(text.slice(Math.max(0, i - 12), i + 24))
  return `they first differ at byte ${i}: codex ${around(codex)}, devicecode ${around(devicecode)}`
}

const parseJson = (text: string): { readonly ok: true; readonly value: unknown } | { readonly ok: false } => {
  try {
    return { ok: true, value: JSON.parse(text) }
  } catch {
    return { ok: false }
  }
}

/**
 * Compares two JSON documents (a body, auth.json, a keyring secret): structure and values first, then, if those
 * agree, the masked bytes (whitespace, escaping, a trailing newline).
 */
const compareJsonText = (
  fields: Fields,
  label: string,
  verb: string,
  codex: string,
  devicecode: string,
  known: readonly [KnownValues, KnownValues]
): void => {
  const c = parseJson(codex)
  const d = parseJson(devicecode)
  if (!c.ok || !d.ok) {
    fields.check(`${label} is JSON`, String(c.ok), String(d.ok), "says")
    if (!c.ok && !d.ok) {
      fields.check(`${label} bytes`, maskText(codex, known[0]), maskText(devicecode, known[1]), verb)
    }
    return
  }
  const before = fields.differences.length
  compareJson(fields, label, verb, c.value, d.value, "", known)
  compareBytes(
    fields,
    label,
    before,
    maskedJsonText(codex, c.value, known[0]),
    maskedJsonText(devicecode, d.value, known[1]),
    "the same JSON written differently"
  )
}

/** The masked bytes, when nothing else differed since `before`: the same values, written differently (`what`). */
const compareBytes = (
  fields: Fields,
  label: string,
  before: number,
  maskedCodex: string,
  maskedDevicecode: string,
  what: string
): void => {
  fields.count++
  if (fields.differences.length === before && maskedCodex !== maskedDevicecode) {
    fields.differ(
      `${label} bytes`,
      maskedCodex,
      maskedDevicecode,
      `${label} bytes: ${what}; ${firstDifference(maskedCodex, maskedDevicecode)}`
    )
  }
}

const compareForm = (
  fields: Fields,
  label: string,
  codex: string,
  devicecode: string,
  known: readonly [KnownValues, KnownValues]
): void => {
  const c = [...new URLSearchParams(codex)]
  const d = [...new URLSearchParams(devicecode)]
  const before = fields.differences.length
  const cNames = c.map(([name]) => name)
  const dNames = d.map(([name]) => name)
  fields.count++
  const at = cNames.findIndex((name, i) => dNames[i] !== name)
  const mismatch = at === -1 && dNames.length > cNames.length ? cNames.length : at
  if (mismatch !== -1) {
    const dName = dNames[mismatch]
    const cName = cNames[mismatch]
    fields.differ(
      `${label} form field order`,
      cNames.join("&"),
      dNames.join("&"),
      `${label}: form field ${mismatch + 1} is ${dName === undefined ? "missing" : JSON.stringify(dName)}, codex sends ${cName === undefined ? "none" : JSON.stringify(cName)} (codex: ${cNames.join(", ")}; devicecode: ${dNames.join(", ")})`
    )
  }
  const value = (pairs: ReadonlyArray<[string, string]>, name: string, k: KnownValues) => {
    const found = pairs.find(([n]) => n === name)
    return found === undefined ? undefined : render(name, found[1], k)
  }
  for (const name of [...cNames, ...dNames.filter((n) => !cNames.includes(n))]) {
    fields.check(`${label} form field ${name}`, value(c, name, known[0]), value(d, name, known[1]), "sends")
  }
  compareBytes(
    fields,
    label,
    before,
    maskedFormText(codex),
    maskedFormText(devicecode),
    "the same form encoded differently"
  )
}

const contentTypeOf = (request: RecordedRequest): string =>
  request.headers
    .find(([name]) => name === "content-type")?.[1]
    .split(";")[0]
    ?.trim()
    .toLowerCase() ?? ""

const compareBody = (
  fields: Fields,
  label: string,
  codex: RecordedRequest,
  devicecode: RecordedRequest,
  known: readonly [KnownValues, KnownValues]
): void => {
  const c = codex.body ?? ""
  const d = devicecode.body ?? ""
  const type = contentTypeOf(codex)
  if (c === "" || d === "") {
    fields.check(
      `${label} body`,
      c === "" ? undefined : maskText(c, known[0]),
      d === "" ? undefined : maskText(d, known[1]),
      "sends"
    )
  } else if (type === "application/x-www-form-urlencoded" && contentTypeOf(devicecode) === type) {
    compareForm(fields, `${label} body`, c, d, known)
  } else if (type === "application/json" && contentTypeOf(devicecode) === type) {
    compareJsonText(fields, `${label} body`, "sends", c, d, known)
  } else {
    fields.check(`${label} body`, maskText(c, known[0]), maskText(d, known[1]), "sends")
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Requests

/** The header values as compared: host and content-length by what they must be, the rest as sent. */
const headerMap = (request: RecordedRequest, issuer: string): Map<string, string> => {
  const map = new Map<string, string>()
  const host = new URL(issuer).host
  for (const [name, value] of request.headers) {
    const shown =
      name === "host" && value === host
        ? "«the issuer's host:port»"
        : name === "content-length" && Number(value) === Buffer.byteLength(request.body ?? "")
          ? "«the body's length»"
          : value
    map.set(name, map.has(name) ? `${map.get(name)}, ${shown}` : shown)
  }
  return map
}

const sameRequest = (a: RecordedRequest, b: RecordedRequest): boolean =>
  a.method === b.method &&
  a.path === b.path &&
  a.search === b.search &&
  a.status === b.status &&
  a.body === b.body &&
  JSON.stringify(a.headers) === JSON.stringify(b.headers)

/** The sign-in requests to compare: pending polls in a row collapsed (how many there are is timing). */
export const authRequests = (observation: Observation): ReadonlyArray<RecordedRequest> => {
  let requests = observation.requests.filter((request) => AUTH_PATHS.has(request.path))
  if (observation.throughFirstRefresh === true) {
    const first = requests.findIndex((request) => request.path === "/oauth/token")
    if (first !== -1) requests = requests.slice(0, first + 1)
  }
  return requests.filter((request, i) => {
    const previous = requests[i - 1]
    return !(request.path === POLL_PATH && request.status === 403 && previous && sameRequest(previous, request))
  })
}

const compareRequests = (fields: Fields, codex: Observation, devicecode: Observation): void => {
  const known = [codex.known, devicecode.known] as const
  const c = authRequests(codex)
  const d = authRequests(devicecode)
  for (let i = 0; i < Math.max(c.length, d.length); i++) {
    const cr = c[i]
    const dr = d[i]
    const label = `request ${i + 1} ${(cr ?? dr)!.method} ${(cr ?? dr)!.path}`
    if (cr === undefined || dr === undefined) {
      fields.check(label, cr && `${cr.method} ${cr.path}`, dr && `${dr.method} ${dr.path}`, "sends")
      continue
    }
    fields.check(`${label} method and path`, `${cr.method} ${cr.path}`, `${dr.method} ${dr.path}`, "sends")
    fields.check(`${label} query`, cr.search, dr.search, "sends")
    fields.check(`${label} answer`, String(cr.status), String(dr.status), "gets")
    const ch = headerMap(cr, codex.issuer)
    const dh = headerMap(dr, devicecode.issuer)
    for (const name of [...ch.keys(), ...[...dh.keys()].filter((n) => !ch.has(n))]) {
      fields.check(`${label} header ${name}`, ch.get(name), dh.get(name), "sends")
    }
    fields.check(
      `${label} header order`,
      [...ch.keys()].filter((n) => dh.has(n)).join(", "),
      [...dh.keys()].filter((n) => ch.has(n)).join(", "),
      "orders"
    )
    compareBody(fields, label, cr, dr, known)
  }
  // codex exec's API client (models, plugins, MCP, the Responses websocket): one field per endpoint it called.
  const others = (observation: Observation) =>
    new Set(
      observation.requests
        .filter((request) => !AUTH_PATHS.has(request.path))
        .map((request) => `${request.method} ${request.path}`)
    )
  const co = others(codex)
  const dO = others(devicecode)
  for (const endpoint of [...co, ...[...dO].filter((e) => !co.has(e))]) {
    fields.check(
      `non-auth request ${endpoint}`,
      co.has(endpoint) ? "sent" : undefined,
      dO.has(endpoint) ? "sent" : undefined,
      "has"
    )
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Files and keyring

const describeEntry = (entry: FileEntry | undefined): string | undefined =>
  entry === undefined
    ? undefined
    : `${entry.type} ${entry.mode.toString(8).padStart(4, "0")}${entry.type === "file" ? `, ${entry.size} bytes` : ""}`

const compareFiles = (
  fields: Fields,
  where: string,
  codex: Snapshot,
  devicecode: Snapshot,
  known: readonly [KnownValues, KnownValues]
): void => {
  const byPath = (files: ReadonlyArray<FileEntry>) => new Map(files.map((file) => [file.path, file]))
  const c = byPath(codex.files)
  const d = byPath(devicecode.files)
  // a directory only one side has counts once, not once per file in it
  const oneSided: Array<string> = []
  for (const path of [...c.keys(), ...[...d.keys()].filter((p) => !c.has(p))]) {
    if (oneSided.some((dir) => path.startsWith(`${dir}/`))) continue
    const cf = c.get(path)
    const df = d.get(path)
    const label = `${where}: file ${path}`
    if (cf === undefined || df === undefined) {
      fields.check(label, describeEntry(cf), describeEntry(df), "has")
      if ((cf ?? df)!.type === "directory") oneSided.push(path)
      continue
    }
    fields.check(`${label} type`, cf.type, df.type, "has")
    fields.check(`${label} mode`, cf.mode.toString(8).padStart(4, "0"), df.mode.toString(8).padStart(4, "0"), "has")
    if (cf.content !== undefined && df.content !== undefined) {
      if (path.endsWith(".json")) compareJsonText(fields, label, "writes", cf.content, df.content, known)
      else fields.check(`${label} content`, cf.content, df.content, "has")
    } else if (cf.type === "file" && path.endsWith(".lock")) {
      // a lock file's size says whether something was written in it; other files (codex's logs) vary by nature
      fields.check(`${label} size`, String(cf.size), String(df.size), "has")
    }
  }
}

const compareKeyring = (
  fields: Fields,
  where: string,
  codex: ReadonlyArray<KeyringItem>,
  devicecode: ReadonlyArray<KeyringItem>,
  known: readonly [KnownValues, KnownValues]
): void => {
  fields.check(`${where}: keyring items`, String(codex.length), String(devicecode.length), "has")
  codex.forEach((ci, i) => {
    const di = devicecode[i]
    if (di === undefined) return
    const label = `${where}: keyring item ${i + 1}`
    fields.check(`${label} label`, maskText(ci.label, known[0]), maskText(di.label, known[1]), "has")
    // not the schema: secret-tool shows it for some reads of an item and not for others, codex's own items included
    const ca = new Map(ci.attributes)
    const da = new Map(di.attributes)
    for (const name of [...ca.keys(), ...[...da.keys()].filter((n) => !ca.has(n))]) {
      const value = (map: Map<string, string>, k: KnownValues) => {
        const found = map.get(name)
        return found === undefined ? undefined : maskText(found, k)
      }
      fields.check(`${label} attribute ${name}`, value(ca, known[0]), value(da, known[1]), "has")
    }
    compareJsonText(fields, `${label} secret`, "stores", ci.secret, di.secret, known)
  })
}

// ---------------------------------------------------------------------------------------------------------------
// What a person sees

const CODEX_NOISE: ReadonlyArray<RegExp> = [
  /^WARNING: proceeding, even though we could not create PATH aliases:/,
  /^Welcome to Codex \[v[^\]]*\]$/,
  /^OpenAI's command-line coding agent$/
]

// codex exec logs what its sign-in code says as tracing lines: `<time>  ERROR codex_login::auth::manager: <message>`.
const AUTH_LOG = /^\S+Z\s+(?:ERROR|WARN|INFO)\s+codex_login::[\w:]+: (.*)$/

const lines = (text: string): ReadonlyArray<string> =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")

/** codex's outcome lines of a step, masked, each once, with the stream it came on. */
export const codexOutcomeLines = (
  step: StepOutput,
  known: KnownValues
): ReadonlyArray<{ readonly stream: "stdout" | "stderr"; readonly line: string }> => {
  const seen = new Set<string>()
  const out: Array<{ stream: "stdout" | "stderr"; line: string }> = []
  for (const stream of ["stdout", "stderr"] as const) {
    for (const raw of lines(maskText(step[stream], known))) {
      let line: string | undefined = raw
      if (step.outcome === "auth log") line = AUTH_LOG.exec(raw)?.[1]?.trim()
      else if (CODEX_NOISE.some((noise) => noise.test(raw))) line = undefined
      if (line === undefined || line === "" || seen.has(line)) continue
      seen.add(line)
      out.push({ stream, line })
    }
  }
  return out
}

const compareSteps = (fields: Fields, codex: Observation, devicecode: Observation): void => {
  for (let i = 0; i < Math.max(codex.steps.length, devicecode.steps.length); i++) {
    const cs = codex.steps[i]
    const ds = devicecode.steps[i]
    if (cs === undefined || ds === undefined) {
      fields.check(`step ${i + 1}`, cs?.label, ds?.label, "runs")
      continue
    }
    fields.check(`${cs.label} exit code`, String(cs.exit), String(ds.exit), "exits with")
    const theirs = [...lines(maskText(ds.stdout, devicecode.known)), ...lines(maskText(ds.stderr, devicecode.known))]
    for (const { line, stream } of codexOutcomeLines(cs, codex.known)) {
      fields.count++
      if (theirs.some((candidate) => candidate.includes(line))) continue
      fields.differ(
        `${cs.label} line ${JSON.stringify(line)}`,
        line,
        theirs.join("\n"),
        `${cs.label}: codex prints ${JSON.stringify(line)} (${stream}), devicecode does not (it prints ${JSON.stringify(theirs)})`
      )
    }
  }
}

/** Compares everything two tools did in one scenario. */
export const compareObservations = (codex: Observation, devicecode: Observation): Comparison => {
  const fields = new Fields()
  const known = [codex.known, devicecode.known] as const
  compareRequests(fields, codex, devicecode)
  for (let i = 0; i < Math.max(codex.snapshots.length, devicecode.snapshots.length); i++) {
    const cs = codex.snapshots[i]
    const ds = devicecode.snapshots[i]
    if (cs === undefined || ds === undefined) {
      fields.check(`snapshot ${i + 1}`, cs?.label, ds?.label, "takes")
      continue
    }
    compareFiles(fields, cs.label, cs, ds, known)
    if (cs.keyring !== undefined || ds.keyring !== undefined) {
      compareKeyring(fields, cs.label, cs.keyring ?? [], ds.keyring ?? [], known)
    }
  }
  compareSteps(fields, codex, devicecode)
  return { fields: fields.count, differences: fields.differences }
}

/** A tool's own result against its result on the other tool's CODEX_HOME: the same exit code and the same lines. */
export const compareCrossRead = (read: CrossRead): Comparison => {
  const fields = new Fields()
  const label = `cross-read: ${read.tool} ${read.own.label} on the other tool's CODEX_HOME`
  fields.count++
  if (read.own.exit !== read.other.exit) {
    fields.differ(
      `${label} exit code`,
      String(read.own.exit),
      String(read.other.exit),
      `${label}: exits with ${read.other.exit}, on its own CODEX_HOME ${read.own.exit}`
    )
  }
  for (const stream of ["stdout", "stderr"] as const) {
    const own = lines(maskTimes(maskText(read.own[stream], read.ownKnown))).filter(
      (line) => !CODEX_NOISE.some((noise) => noise.test(line))
    )
    const other = lines(maskTimes(maskText(read.other[stream], read.otherKnown))).filter(
      (line) => !CODEX_NOISE.some((noise) => noise.test(line))
    )
    for (let i = 0; i < Math.max(own.length, other.length); i++) {
      fields.count++
      if (own[i] === other[i]) continue
      // codex is the reference of the comparison; here "codex" is the tool's own CODEX_HOME
      fields.differ(
        `${label} ${stream} line ${i + 1}`,
        own[i],
        other[i],
        `${label}: ${stream} line ${i + 1} is ${show(other[i])}, on its own CODEX_HOME ${show(own[i])}`
      )
    }
  }
  return { fields: fields.count, differences: fields.differences }
}
