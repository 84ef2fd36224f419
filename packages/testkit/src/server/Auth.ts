// Access-token authentication as Synapse does it: `Authorization: Bearer` or `?access_token=`,
// never both; missing → 401 M_MISSING_TOKEN, unknown → 401 M_UNKNOWN_TOKEN.
import type { CoreRequest } from "./Http.js"
import { MatrixError } from "./Http.js"
import type { Session, State, User } from "./State.js"

/** The caller of a request, or a thrown 401. */
export const authenticate = (
  state: State,
  request: CoreRequest,
  query: URLSearchParams,
): Session & { readonly user: User; readonly token: string } => {
  const header = request.headers["authorization"]
  const fromQuery = query.get("access_token")
  if (header !== undefined && fromQuery !== null) {
    throw new MatrixError(401, "M_MISSING_TOKEN", "Mixing Authorization headers and access_token query parameters.")
  }
  let token: string | undefined
  if (header !== undefined) {
    const parts = header.split(" ")
    if (parts.length !== 2 || parts[0] !== "Bearer" || parts[1] === undefined) {
      throw new MatrixError(401, "M_MISSING_TOKEN", "Invalid Authorization header.")
    }
    token = parts[1]
  } else if (fromQuery !== null) {
    token = fromQuery
  }
  if (token === undefined) throw new MatrixError(401, "M_MISSING_TOKEN", "Missing access token.")
  const session = state.tokens.get(token)
  const user = session === undefined ? undefined : state.users.get(session.userId)
  if (session === undefined || user === undefined) {
    throw new MatrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.", { soft_logout: false })
  }
  return { ...session, user, token }
}
