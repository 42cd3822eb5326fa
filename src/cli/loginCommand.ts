import * as Command from "@effect/cli/Command"
import * as Option from "effect/Option"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { noColor, store, verbose } from "./environment.js"
import { loginFlags } from "./loginFlags.js"
import { loadedWhenRun } from "./loadedWhenRun.js"

/** `devicecode login`. */
export const loginCommand = Command.make(
  "login",
  { flags: loginFlags, store, noColor: noColor, verbose },
  // the handler's modules (the login program, the waiting screen, QR codes) load when it runs, not for --help
  loadedWhenRun(
    () => import("./loginRun.js"),
    (run) => run.runLogin
  )
)
  .pipe(
    Command.provide((options) =>
      authFor({
        ...options.flags.target,
        ...Option.match(options.store, { onNone: () => ({}), onSome: (store) => ({ store }) }),
        verbose: options.verbose
      })
    )
  )
  .pipe(
    Command.withDescription(
      described(
        "Sign in with a device code (Codex dialect, or --dialect rfc8628 for any OpenID provider), through a browser on this machine with --browser, or store an API key with --with-api-key",
        "devicecode login --open --qr"
      )
    )
  )
