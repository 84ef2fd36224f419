/** A failure as one readable sentence, from the error's tag and reason only (its payload may hold secrets). */
const field = (error: object, name: string): string | undefined => {
  const value: unknown = Reflect.get(error, name)
  return typeof value === "string" ? value : undefined
}

const SENTENCES: Record<string, string> = {
  RecoveryKeyError: "That is not a valid recovery key: check it for typos.",
  "SecretStorageError:WrongKey": "That recovery key does not open this account's Secret Storage.",
  "SecretStorageError:NoDefaultKey": "This account has no Secret Storage yet: create a backup first.",
  DecryptionKeyDoesNotMatch: "The key in Secret Storage does not belong to the backup on the homeserver.",
  "RecoveryError:NoBackup": "The homeserver has no key backup.",
  TransportError: "The homeserver cannot be reached.",
  Unauthorized: "The homeserver rejected the access token.",
}

/** A sentence for known failures, otherwise `Tag (reason)` or a plain Error's message. */
export const describeError = (error: unknown): string => {
  if (typeof error !== "object" || error === null) return "Something went wrong."
  const tag = field(error, "_tag")
  if (tag === undefined) return error instanceof Error ? error.message : "Something went wrong."
  const reason = field(error, "reason")
  return SENTENCES[`${tag}:${reason}`] ?? SENTENCES[tag] ?? `${tag}${reason === undefined ? "" : ` (${reason})`}`
}
