/**
 * MSC4287, in the spec since v1.19: `m.key_backup {enabled}` in global account data records whether the account
 * wants key storage; before it, Element wrote the reversed `m.org.matrix.custom.backup_disabled {disabled}` (the MSC's
 * unstable form). Malformed content is ignored, as the spec requires (PROTOCOL.md §6.6).
 */
import { Effect, Either, Option } from "effect"
import {
  BACKUP_DISABLED_EVENT_TYPE,
  BackupDisabledEvent,
  decodeAccountData,
  decodeKeyBackupEnabled,
  KEY_BACKUP_EVENT_TYPE,
} from "../schema/SecretStorage.js"
import type { Context } from "effect"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"

/** What the account says: key storage `On`, `Off`, or `Unset` (absent or malformed: the app decides). */
export type KeyStoragePreference =
  | { readonly _tag: "On" | "Off"; readonly source: typeof KEY_BACKUP_EVENT_TYPE | typeof BACKUP_DISABLED_EVENT_TYPE }
  | { readonly _tag: "Unset" }

const decodeBackupDisabled = decodeAccountData(BackupDisabledEvent, "disabled")

const preference = (enabled: boolean, source: typeof KEY_BACKUP_EVENT_TYPE | typeof BACKUP_DISABLED_EVENT_TYPE): KeyStoragePreference => ({
  _tag: enabled ? "On" : "Off",
  source,
})

/** The account's preference: the stable event when well-formed, else the unstable one, else `Unset`. */
export const readKeyStoragePreference = (api: Context.Tag.Service<HomeserverApi>): Effect.Effect<KeyStoragePreference, HomeserverApiError> =>
  Effect.gen(function* () {
    const stable = Option.flatMap(yield* api.getAccountData(KEY_BACKUP_EVENT_TYPE), (content) => Option.flatten(Either.getRight(decodeKeyBackupEnabled(content))))
    if (Option.isSome(stable)) return preference(stable.value.enabled, KEY_BACKUP_EVENT_TYPE)
    const unstable = Option.flatMap(yield* api.getAccountData(BACKUP_DISABLED_EVENT_TYPE), (content) => Option.flatten(Either.getRight(decodeBackupDisabled(content))))
    if (Option.isSome(unstable)) return preference(!unstable.value.disabled, BACKUP_DISABLED_EVENT_TYPE)
    return { _tag: "Unset" }
  })

/** Records the user's choice in both forms, so clients that only know the unstable one agree. */
export const writeKeyStoragePreference = (api: Context.Tag.Service<HomeserverApi>, enabled: boolean): Effect.Effect<void, HomeserverApiError> =>
  Effect.zipRight(api.putAccountData(KEY_BACKUP_EVENT_TYPE, { enabled }), api.putAccountData(BACKUP_DISABLED_EVENT_TYPE, { disabled: !enabled }))

/** True when the account chose no key storage. */
export const isOff = (preference: KeyStoragePreference): boolean => preference._tag === "Off"
