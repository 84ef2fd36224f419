/** How a key-storage step names a failure in its report: the error's tag and reason, enough to act on, never a value. */
export const failureTag = (error: { readonly _tag: string }): string => {
  const reason: unknown = "reason" in error ? error.reason : undefined
  return typeof reason === "string" ? `${error._tag}:${reason}` : error._tag
}
