/** devicecode/testing: the test kit — a real local issuer, a scripted issuer and a browser stand-in. */
export * as LocalIssuer from "./LocalIssuer.js"
export * as ScriptedIssuer from "./ScriptedIssuer.js"
export * as TestPkce from "./TestPkce.js"
export * from "./browser.js"
export * as MemoryStore from "../layers/MemoryStore.js"
