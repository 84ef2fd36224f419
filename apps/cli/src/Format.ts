/** Small pieces of human output shared by the commands. */

/** `{reason: n}` as `reason n, reason n` (or `none`). */
export const formatFailures = (failures: Record<string, number>): string => {
  const entries = Object.entries(failures)
  return entries.length === 0 ? "none" : entries.map(([reason, n]) => `${reason} ${n.toLocaleString("en-US")}`).join(", ")
}

/** A count with thousands separators. */
export const count = (n: number): string => n.toLocaleString("en-US")

/** A homeserver's answer in a few words: `HTTP 500 M_UNKNOWN ...`, leaving out the parts it did not give. */
export const serverAnswer = (status: number | undefined, ...parts: ReadonlyArray<string | undefined>): string =>
  [status === undefined ? undefined : `HTTP ${status}`, ...parts].filter((part) => part !== undefined).join(" ")
