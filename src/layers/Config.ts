import * as FileSystem from "@effect/platform/FileSystem"
import * as Path from "@effect/platform/Path"
import * as Config from "effect/Config"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { PlatformError } from "@effect/platform/Error"
import { homedir } from "node:os"
import { parse, TomlError } from "smol-toml"
import { ConfigError } from "../domain/Errors.js"
import { type CodexConfig, decodeCodexConfig, defaultCodexConfig } from "../domain/CodexConfig.js"
import { plainIoError, readRegularFile } from "./localFile.js"

/** config.toml's shape and values, defined in the domain. */
export { CodexConfig, CredentialsStoreKind, credentialsStoreKinds, defaultCodexConfig } from "../domain/CodexConfig.js"

const isNotFound = (error: PlatformError): boolean => error._tag === "SystemError" && error.reason === "NotFound"

const envVar = (name: string): Effect.Effect<Option.Option<string>> =>
  Config.option(Config.string(name)).pipe(Effect.map(Option.filter((value) => value !== "")), Effect.orDie)

/**
 * codex's CODEX_HOME: when set (and not empty) it must be an existing directory and is made absolute and canonical;
 * otherwise `$HOME/.codex`, which need not exist yet.
 */
export const resolveCodexHome: Effect.Effect<string, ConfigError, FileSystem.FileSystem | Path.Path> = Effect.gen(
  function* () {
    const path = yield* Path.Path
    const codexHome = yield* envVar("CODEX_HOME")
    if (Option.isNone(codexHome)) {
      const home = Option.getOrElse(yield* envVar("HOME"), homedir)
      return path.join(home, ".codex")
    }
    return yield* canonicalCodexHome(codexHome.value, "CodexHome")
  }
).pipe(Effect.withSpan("Config.resolveCodexHome"))

/**
 * A CODEX_HOME that must exist as a directory, made absolute and canonical (symlinks resolved), as codex keys the
 * keyring entry by it; `reason` is the ConfigError's when it does not.
 */
export const canonicalCodexHome = (
  dir: string,
  reason: ConfigError["reason"]
): Effect.Effect<string, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const path = yield* Path.Path
    const absolute = path.resolve(dir)
    const fail = (detail: string) => new ConfigError({ reason, path: absolute, detail })
    const info = yield* fs
      .stat(absolute)
      .pipe(
        Effect.mapError((error) =>
          fail(isNotFound(error) ? "does not exist" : `cannot be read (${plainIoError(error)})`)
        )
      )
    if (info.type !== "Directory") return yield* fail("is not a directory")
    return yield* fs
      .realPath(absolute)
      .pipe(Effect.mapError((error) => fail(`cannot be resolved (${plainIoError(error)})`)))
  })

/**
 * Reads `$CODEX_HOME/config.toml`; a missing file gives the defaults. Only a regular file of at most 1 MiB is read: a
 * FIFO, device or directory there is a ConfigError, never a wait.
 */
export const loadCodexConfig = (
  codexHome: string
): Effect.Effect<CodexConfig, ConfigError, FileSystem.FileSystem | Path.Path> =>
  Effect.gen(function* () {
    const path = yield* Path.Path
    const file = path.join(codexHome, "config.toml")
    const fail = (detail: string) => new ConfigError({ reason: "ConfigFile", path: file, detail })
    const text = yield* readRegularFile(file).pipe(
      Effect.map(Option.map((read) => read.text)),
      Effect.mapError((error) =>
        fail(
          error.reason === "NotRegular"
            ? `is ${error.detail}, not a regular file`
            : error.reason === "TooLarge"
              ? `is ${error.detail}`
              : `cannot be read (${error.detail})`
        )
      )
    )
    if (Option.isNone(text)) return defaultCodexConfig
    // smol-toml's message quotes the offending lines, which may hold secrets; keep only its first line.
    const toml = yield* Effect.try({
      try: () => parse(text.value),
      catch: (error) => {
        if (!(error instanceof TomlError)) return fail("invalid TOML")
        const reason = error.message.split("\n")[0] ?? "syntax error"
        return fail(`invalid TOML at line ${error.line}, column ${error.column}: ${reason}`)
      }
    })
    return yield* Effect.mapError(decodeCodexConfig(toml), fail)
  }).pipe(Effect.withSpan("Config.loadCodexConfig"))
