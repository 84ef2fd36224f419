// One-time and fallback key bookkeeping shared by `/keys/upload`, `/keys/claim` and `/sync`.
import type { Device } from "../State.js"

/** `{algorithm: count}` of unclaimed one-time keys; Synapse always reports `signed_curve25519`. */
export const oneTimeKeyCounts = (device: Device): Record<string, number> => {
  const counts: Record<string, number> = { signed_curve25519: 0 }
  for (const keyId of device.oneTimeKeys.keys()) {
    const algorithm = keyId.split(":")[0] ?? keyId
    counts[algorithm] = (counts[algorithm] ?? 0) + 1
  }
  return counts
}

/** Algorithms with a fallback key that has not been used yet. */
export const unusedFallbackTypes = (device: Device): Array<string> =>
  [...device.fallbackKeys].filter(([, entry]) => !entry.used).map(([algorithm]) => algorithm)
