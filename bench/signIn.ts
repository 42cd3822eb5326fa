// Temporary CODEX_HOMEs with a sign-in in them, made in-process against a LocalIssuer.
import { Duration, Effect, Layer, Option } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as CodexIssuer from "../src/layers/CodexIssuer.js"
import * as FileStore from "../src/layers/FileStore.js"
import * as IssuerResolver from "../src/layers/IssuerResolver.js"
import * as Pkce from "../src/services/Pkce.js"
import * as WorkspacePolicy from "../src/services/WorkspacePolicy.js"
import { login } from "../src/services/login.js"
import * as LocalIssuer from "../src/testing/LocalIssuer.js"

/** A fresh temporary directory, removed when the scope closes. */
export const tempDir = (prefix: string) =>
  Effect.acquireRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), `devicecode-bench-${prefix}-`))),
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * A ChatGPT sign-in in a fresh CODEX_HOME, made against a LocalIssuer whose first access token lives `firstTokenTtl`
 * (0: born expired); the tokens it mints later live an hour.
 */
export const signedIn = (firstTokenTtl: Duration.DurationInput) =>
  Effect.gen(function* () {
    const issuer = yield* LocalIssuer.make({
      interval: "1 second",
      accessTokenTtl: firstTokenTtl,
      autoApproveAfter: "10 millis"
    })
    const home = yield* tempDir("home")
    const authPath = FileStore.authJsonPath(home)
    yield* login().pipe(
      Effect.provide(
        Layer.mergeAll(
          CodexIssuer.layer({ issuer: issuer.url }).pipe(Layer.provide(Pkce.layer)),
          IssuerResolver.layer,
          FileStore.layer(authPath),
          WorkspacePolicy.layer(Option.none())
        )
      )
    )
    yield* issuer.setKnobs({ accessTokenTtlSeconds: 3600 })
    return { issuer, home, authPath }
  })
