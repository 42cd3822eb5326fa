// Node's HttpClient on node:http, and nothing else of @effect/platform-node/NodeHttpClient: a bundle that imports that
// module whole also carries its undici client (~0.5 MB), which devicecode does not use.
export { layer } from "@effect/platform-node/NodeHttpClient"
