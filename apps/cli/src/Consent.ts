/**
 * Steps that replace or delete something go ahead only with `--force`, or when the person at the terminal says yes.
 * Without a terminal the command refuses with one line saying what it would have done.
 */
import { Effect } from "effect"
import { CliError, cancelledError } from "./CliError.js"
import { confirm } from "./terminal/Prompt.js"
import { isInteractive } from "./terminal/Terminal.js"

/** What is at stake: the question for a person, and the refusal for a script (which names `--force`). */
export interface Stake {
  readonly question: string
  readonly refusal: string
}

/** Succeeds when forced or confirmed; otherwise fails with `NeedsForce` (no terminal) or `Cancelled` (answered no). */
export const requireConsent = (force: boolean, stake: Stake): Effect.Effect<void, CliError> => {
  if (force) return Effect.void
  if (!isInteractive()) return Effect.fail(new CliError({ code: "NeedsForce", message: stake.refusal }))
  return Effect.flatMap(confirm(stake.question), (yes) =>
    yes ? Effect.void : Effect.fail(cancelledError()),
  )
}
