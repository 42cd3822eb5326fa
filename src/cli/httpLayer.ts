// The CLI's HttpClient: Node's, loaded on the first request, and logged with --verbose. Loaded itself only by the
// commands that may talk to an issuer (runtime.ts), so that `status` never evaluates @effect/platform's HTTP client.
import * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { withHttpLog } from "./httpLog.js"
import { onFirstUse } from "./onFirstUse.js"

// Node's HttpClient, on the first request: `token` with a fresh token and `logout` of nothing never load it.
const nodeHttp: Layer.Layer<HttpClient.HttpClient> = Layer.scoped(
  HttpClient.HttpClient,
  Effect.map(
    onFirstUse(HttpClient.HttpClient, () => import("../layers/nodeHttpClient.js").then((http) => http.layer)),
    // the issuers turn trace headers off on the client they get; the one underneath must not add them either
    (client) =>
      HttpClient.make((request) =>
        Effect.flatMap(client, (live) => HttpClient.withTracerPropagation(live, false).execute(request))
      )
  )
)

// --verbose logs each exchange on stderr
export const httpFor = (verbose: boolean): Layer.Layer<HttpClient.HttpClient> =>
  verbose
    ? Layer.effect(HttpClient.HttpClient, Effect.map(HttpClient.HttpClient, withHttpLog)).pipe(Layer.provide(nodeHttp))
    : nodeHttp
