/** Small pieces of human output shared by the commands. */

/** `{reason: n}` as `reason n, reason n` (or `none`). */
export const formatFailures = (failures: Record<string, number>): string => {
  const entries = Object.entries(failures)
  return entries.length === 0 ? "none" : entries.map(([reason, n]) => `${reason} ${n.toLocaleString("en-US")}`).join(", ")
}

/** A count with thousands separators. */
export const count = (n: number): string => n.toLocaleString("en-US")
