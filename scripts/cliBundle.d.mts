import type { BuildOptions, Plugin } from "esbuild"

/** Packages the CLI never runs, replaced by stubs. */
export declare const leftOut: Readonly<Record<string, string>>
/** The plugin that makes @effect/cli's prompt modules load on first use (scripts/lazyModules.mjs). */
export declare const lazyPrompts: Plugin
/** esbuild's options for the CLI bundle, but `outfile`. */
export declare const cliBuildOptions: BuildOptions & { readonly plugins: Array<Plugin> }
/** The bundle's text with a first line naming the SHA-256 of the rest. */
export declare const stamp: (body: string) => string
/** `body` with each non-ASCII character written as a \u escape. */
export declare const asciiOnly: (body: string) => string
