import * as Options from "@effect/cli/Options"

/** A command's boolean flags of flagTable.ts's `booleanFlags` as @effect/cli options, each with its description. */
export const booleanOptions = <F extends Readonly<Record<string, string>>>(
  flags: F,
  descriptions: { readonly [K in keyof F]: string }
): { readonly [K in keyof F]: Options.Options<boolean> } =>
  Object.fromEntries(
    Object.entries(flags).map(([key, name]) => [
      key,
      Options.boolean(name).pipe(Options.withDescription(descriptions[key]!))
    ])
  ) as { readonly [K in keyof F]: Options.Options<boolean> }
