import * as Effect from "effect/Effect"
import type { IssuerContext } from "./context.js"
import { html } from "./http.js"
import { approvalPage, resultPage } from "./page.js"
import type { IssuerRequest, Route } from "./route.js"

/**
 * The approval page at a dialect's path: GET shows the form, POST approves or denies. One page serves both dialects: a
 * code is found by its user code whichever endpoint issued it.
 */
export const approvalRoute = (context: Pick<IssuerContext, "codes" | "count">, path: string): Route => {
  const { codes, count } = context
  const unknown = () => html(400, resultPage("Unknown or expired code", "Unknown or expired code.", path))

  const show = (request: IssuerRequest) =>
    Effect.sync(() => {
      count("devicePage")
      return html(200, approvalPage({ action: path, userCode: request.query.get("user_code") ?? "" }))
    })

  const decide = ({ params }: IssuerRequest) =>
    Effect.gen(function* () {
      count("devicePage")
      const userCode = params.user_code ?? ""
      if (params.action === "approve") {
        return (yield* codes.approve(userCode))
          ? html(200, resultPage("Approved", "Approved. You can return to your terminal."))
          : unknown()
      }
      if (params.action === "deny") {
        return (yield* codes.deny(userCode)) ? html(200, resultPage("Denied", "Denied.")) : unknown()
      }
      return html(400, resultPage("Unknown action", "Choose Approve or Deny.", path))
    })

  return { path, get: show, post: decide }
}
