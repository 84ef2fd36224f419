/**
 * The cross-signing private keys in Secret Storage (`m.cross_signing.{master,self_signing,user_signing}`), stored by
 * `bootstrapSecretStorage` when the app hands them over in matrix-js-sdk's `CrossSigningKeyExport` shape.
 * https://spec.matrix.org/v1.16/client-server-api/#storing-secrets
 */
import { Effect, Option, Redacted } from "effect"
import { decodeBase64 } from "../schema/Base64.js"
import { CROSS_SIGNING_SECRETS } from "../schema/SecretStorage.js"
import { RecoveryError } from "./RecoveryError.js"
import type { Deps } from "./RecoveryDeps.js"

/** js-sdk's `CrossSigningKeyExport` (what `OlmMachine.exportCrossSigningKeys` gives): unpadded base64 of each 32-byte seed. */
export interface CrossSigningKeys {
  readonly masterKey: string
  readonly self_signing_key: string
  readonly userSigningKey: string
}

/** The secret name each key is stored under. */
const entries = (keys: CrossSigningKeys) =>
  [
    ["m.cross_signing.master", keys.masterKey],
    ["m.cross_signing.self_signing", keys.self_signing_key],
    ["m.cross_signing.user_signing", keys.userSigningKey],
  ] as const

/** Fails with `InvalidCrossSigningKeys` (naming the field, never the value) unless each key is base64 of 32 bytes. */
export const checkCrossSigningKeys = (keys: CrossSigningKeys): Effect.Effect<void, RecoveryError> =>
  Effect.forEach(entries(keys), ([name, value]) => {
    const bytes = typeof value === "string" ? decodeBase64(value) : undefined
    const ok = bytes?.length === 32
    bytes?.fill(0)
    return ok ? Effect.void : Effect.fail(new RecoveryError({ reason: "InvalidCrossSigningKeys", detail: `${name} is not base64 of 32 bytes` }))
  }, { discard: true })

/** Whether all three are stored under the default key. */
const allStored = (deps: Deps) =>
  Effect.gen(function* () {
    const defaultKeyId = Option.getOrUndefined(yield* deps.secretStorage.getDefaultKeyId())
    if (defaultKeyId === undefined) return false
    for (const name of CROSS_SIGNING_SECRETS) {
      if (!Option.exists(yield* deps.secretStorage.isStored(name), (keyIds) => defaultKeyId in keyIds)) return false
    }
    return true
  })

/** Stores the keys under the default 4S key, as js-sdk does: when 4S is new, or when they are not all there yet. */
export const storeCrossSigningKeys = (deps: Deps, keys: CrossSigningKeys, newSecretStorage: boolean) =>
  Effect.gen(function* () {
    if (!newSecretStorage && (yield* allStored(deps))) return
    for (const [name, value] of entries(keys)) yield* deps.secretStorage.store(name, Redacted.make(value))
  })
