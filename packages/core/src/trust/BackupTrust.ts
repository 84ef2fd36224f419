/**
 * The BackupTrust service: `trusted` and `matchesDecryptionKey` for a backup version, with per-signer detail
 * (PROTOCOL.md §7.5). Asks `/keys/query` for our identity, DeviceKeys for local verification and the store for the
 * decryption key. Never fails: what cannot be learned counts against trust.
 */
import { Context, Effect, Either, Layer, Option, Redacted } from "effect"
import { matchesBackup } from "../crypto/BackupKey.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { MEGOLM_BACKUP_V1_CURVE25519 } from "../schema/BackupInfo.js"
import { UserIdKey } from "../schema/Ids.js"
import { BackupStore } from "../services/BackupStore.js"
import { DeviceKeys } from "../services/DeviceKeys.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { ownIdentityFrom } from "./OwnIdentity.js"
import type { BackupTrustResult, TrustVerdict } from "./TrustVerdict.js"
import { isTrusted } from "./TrustVerdict.js"
import { otherSignerIds, type TrustContext, verifyAuthData } from "./VerifyAuthData.js"

/** Trust decisions about backup versions. */
export class BackupTrust extends Context.Tag("@matrix-backup/core/BackupTrust")<
  BackupTrust,
  {
    /** Both booleans and the per-signer detail; no side effect. */
    readonly isKeyBackupTrusted: (info: KeyBackupInfo) => Effect.Effect<BackupTrustResult>
    /** Only the decryption-key comparison (no network). */
    readonly decryptionKeyMatch: (info: KeyBackupInfo) => Effect.Effect<TrustVerdict["decryptionKey"]>
  }
>() {}

/** Builds the service from its ports. */
export const make = Effect.gen(function* () {
  const api = yield* HomeserverApi
  const store = yield* BackupStore
  const device = yield* DeviceKeys

  const decryptionKeyMatch = (info: KeyBackupInfo): Effect.Effect<TrustVerdict["decryptionKey"]> => {
    if (info.algorithm !== MEGOLM_BACKUP_V1_CURVE25519 || info.auth_data._tag !== "Curve25519") {
      return Effect.succeed("NotCurve25519")
    }
    return store.getBackupDecryptionKey().pipe(
      Effect.map(
        Option.match({
          onNone: () => "NoKeyStored" as const,
          onSome: ({ key, version }) => {
            // Compared as bytes in constant time: padded and unpadded base64 of one key are the same key.
            if (!Either.getOrElse(matchesBackup(Redacted.value(key), info), () => false)) return "PublicKeyDiffers" as const
            return info.version !== undefined && info.version !== version ? ("VersionDiffers" as const) : ("Matches" as const)
          },
        }),
      ),
      // An unreadable store holds no usable key: the backup is then judged by signatures alone.
      Effect.catchAll(() => Effect.succeed("NoKeyStored" as const)),
    )
  }

  const context = Effect.gen(function* () {
    const query = yield* Effect.option(api.queryKeys({ device_keys: { [UserIdKey.make(device.userId)]: [] } }))
    return {
      userId: device.userId,
      deviceId: device.deviceId,
      deviceEd25519: device.ed25519PublicKey,
      identity: Option.map(query, (response) => ownIdentityFrom(response, device.userId)),
      localMasterKey: device.masterPublicKey,
      ownIdentityVerified: yield* device.isOwnIdentityVerified(),
      locallyVerified: new Set<string>(),
    } satisfies TrustContext
  })

  const isKeyBackupTrusted = (info: KeyBackupInfo): Effect.Effect<BackupTrustResult> =>
    Effect.gen(function* () {
      const base = yield* context
      const raw = info.auth_data.raw
      const verified = new Set<string>()
      for (const id of otherSignerIds(raw, base)) if (yield* device.isDeviceVerified(id)) verified.add(id)
      const signatures = verifyAuthData(raw, { ...base, locallyVerified: verified })
      const details: TrustVerdict = {
        ...signatures,
        decryptionKey: yield* decryptionKeyMatch(info),
        unsupportedAlgorithm: info.algorithm !== MEGOLM_BACKUP_V1_CURVE25519 || info.auth_data._tag !== "Curve25519",
      }
      return { trusted: isTrusted(details), matchesDecryptionKey: details.decryptionKey === "Matches", details }
    }).pipe(Effect.withSpan("BackupTrust.isKeyBackupTrusted"))

  return { isKeyBackupTrusted, decryptionKeyMatch } satisfies Context.Tag.Service<BackupTrust>
})

/** The service over HomeserverApi, BackupStore and DeviceKeys. */
export const layer: Layer.Layer<BackupTrust, never, HomeserverApi | BackupStore | DeviceKeys> = Layer.effect(BackupTrust, make)
