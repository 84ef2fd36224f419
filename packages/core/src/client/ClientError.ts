/**
 * How the Promise facade rejects: a plain `Error` whose `name` is the Effect error's tag and whose `code` is its
 * reason (or Matrix errcode). Messages come from our typed errors, which never carry keys, tokens or plaintext.
 */
import { Cause, Exit, Predicate } from "effect"

/** The error every facade method rejects with. */
export class KeyBackupClientError extends Error {
  /** The typed reason (`NotTrusted`, `WrongKey`, ...) or the tag when the error has none. */
  readonly code: string
  /** The Matrix errcode, when the failure came from the homeserver. */
  readonly errcode: string | undefined

  constructor(name: string, code: string, message: string, errcode?: string) {
    super(message)
    this.name = name
    this.code = code
    this.errcode = errcode
  }
}

const stringField = (u: object, key: string): string | undefined => {
  const value: unknown = Reflect.get(u, key)
  return typeof value === "string" ? value : undefined
}

/** Converts a typed failure (a tagged error) to a `KeyBackupClientError`. */
export const fromFailure = (failure: unknown): KeyBackupClientError => {
  if (failure instanceof KeyBackupClientError) return failure
  if (Predicate.isObject(failure) && Predicate.hasProperty(failure, "_tag") && typeof failure._tag === "string") {
    const tag = failure._tag
    const code = stringField(failure, "reason") ?? tag
    const message = stringField(failure, "message") ?? tag
    return new KeyBackupClientError(tag, code, message, stringField(failure, "errcode"))
  }
  return new KeyBackupClientError("UnknownError", "Unknown", "Key backup operation failed")
}

/** The value of an exit, or the error to reject with (defects and interruptions get generic, secret-free messages). */
export const unwrapExit = <A, E>(exit: Exit.Exit<A, E>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  const failure = Cause.failureOption(exit.cause)
  if (failure._tag === "Some") throw fromFailure(failure.value)
  if (Cause.isInterruptedOnly(exit.cause)) throw new KeyBackupClientError("Interrupted", "Interrupted", "The operation was interrupted (client stopped?)")
  const defect = Cause.squash(exit.cause)
  // Defects are our own bugs or environment gaps; their messages are ours, never data.
  const detail = defect instanceof Error ? `: ${defect.message}` : ""
  throw new KeyBackupClientError("Defect", "Defect", `Internal error in the key backup client${detail}`)
}
