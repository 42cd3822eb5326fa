/**
 * Whether `args` (argv after the script) carry `flag` before any `--`. For what main.ts must know before @effect/cli
 * parses anything: a usage error fails while options are parsed, and help is printed by @effect/cli itself.
 */
export const hasFlag = (args: ReadonlyArray<string>, flag: string): boolean => {
  const end = args.indexOf("--")
  return (end === -1 ? args : args.slice(0, end)).includes(flag)
}
