/** The little of oidc-provider 8 (which ships no types) that the test harness uses. */
declare module "oidc-provider" {
  import type { IncomingMessage, ServerResponse } from "node:http"

  /** Provider configuration; the harness builds it as a plain object literal. */
  export interface Configuration {
    readonly [option: string]: unknown
  }

  /** An OpenID provider: a Koa application answering under `issuer`. */
  export default class Provider {
    constructor(issuer: string, configuration?: Configuration)
    readonly issuer: string
    callback(): (request: IncomingMessage, response: ServerResponse) => Promise<void>
    on(event: string, listener: (...args: Array<any>) => void): this
  }
}
