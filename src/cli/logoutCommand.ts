import * as Command from "@effect/cli/Command"
import { authFor } from "./CliLayers.js"
import { described } from "./described.js"
import { storeCommandOptions } from "./authOptions.js"
import { noColor, profile, store, verbose } from "./environment.js"
import { jsonOption } from "./jsonFlag.js"
import { loadedWhenRun } from "./loadedWhenRun.js"

const json = jsonOption("Print what was done (removed, revoked) as one JSON object on stdout and nothing else there")

/** `devicecode logout`: the logout program (logoutRun.ts, loaded when it runs), its warnings, then what it did. */
export const logoutCommand = Command.make(
  "logout",
  { json, profile, store, noColor, verbose },
  loadedWhenRun(
    () => import("./logoutRun.js"),
    (run) => run.runLogout
  )
)
  .pipe(Command.provide((options) => authFor(storeCommandOptions(options))))
  .pipe(
    Command.withDescription(
      described(
        "Revoke the stored refresh token at its issuer (best effort, 10 s at most) and delete the sign-in",
        "devicecode logout --profile work"
      )
    )
  )
