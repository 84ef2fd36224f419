/** A failure as one readable sentence: the error's tag and reason, never its payload (which may hold secrets). */
const field = (error: object, name: string): string | undefined => {
  const value: unknown = Reflect.get(error, name)
  return typeof value === "string" ? value : undefined
}

/** `RestoreError (WrongKey)`, `Unauthorized`, or the message of a plain Error. */
export const describeError = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return "Something went wrong"
  const tag = field(error, "_tag")
  if (tag === undefined) return error instanceof Error ? error.message : "Something went wrong"
  const reason = field(error, "reason")
  return `${tag}${reason === undefined ? "" : ` (${reason})`}`
}
