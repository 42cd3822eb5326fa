import type { HttpClient } from "@effect/platform"
import { Context, type Layer } from "effect"

/** The live parts main.ts picks for the commands; commands build them only when they need them. */
export class CliLayers extends Context.Tag("devicecode/cli/CliLayers")<
  CliLayers,
  {
    /** The HttpClient for commands that use the network (built only by those commands). */
    readonly httpClient: Layer.Layer<HttpClient.HttpClient>
  }
>() {}
