// The full client-server route table of the fake homeserver.
import type { Route } from "../Router.js"
import { routes as accountData } from "./AccountData.js"
import { routes as accounts } from "./Accounts.js"
import { routes as crossSigning } from "./CrossSigning.js"
import { routes as keys } from "./Keys.js"
import { routes as misc } from "./Misc.js"
import { routes as pushRules } from "./PushRules.js"
import { routes as roomKeys } from "./RoomKeys.js"
import { routes as roomKeyVersions } from "./RoomKeyVersions.js"
import { routes as sync } from "./Sync.js"

/** Every Matrix route. */
export const matrixRoutes: ReadonlyArray<Route> = [
  ...accounts,
  ...roomKeyVersions,
  ...roomKeys,
  ...accountData,
  ...keys,
  ...crossSigning,
  ...sync,
  ...pushRules,
  ...misc,
]
