/** Packages the CLI never runs, replaced by stubs. */
export declare const leftOut: Readonly<Record<string, string>>
/** The bundle's text with a first line naming the SHA-256 of the rest. */
export declare const stamp: (body: string) => string
/** `body` with each non-ASCII character written as a \u escape. */
export declare const asciiOnly: (body: string) => string
