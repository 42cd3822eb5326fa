// Stands in for yaml, toml and ini in the CLI bundle: @effect/cli imports them for config-file options, which devicecode
// does not use. Leaving them out keeps their code from being compiled and run at every start.
const leftOut = () => {
  throw new Error("devicecode's CLI bundle leaves out @effect/cli's config-file parsers (yaml, toml, ini)")
}
export const parse = leftOut
export default { parse: leftOut }
