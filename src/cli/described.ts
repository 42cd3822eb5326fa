import * as HelpDoc from "@effect/cli/HelpDoc"

/** A command's description: its summary, then a paragraph with an example. */
export const described = (summary: string, example: string): HelpDoc.HelpDoc =>
  HelpDoc.blocks([HelpDoc.p(summary), HelpDoc.p(`Example: ${example}`)])
