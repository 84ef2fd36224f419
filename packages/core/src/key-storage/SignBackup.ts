/**
 * The repair's sign step (PROTOCOL.md §7.3): adds the cross-signing master key's signature, and this device's when it
 * can sign, to the current version's `auth_data`, so devices that trust the user's identity trust the backup. The
 * master key is the one the app gave, else `m.cross_signing.master` from Secret Storage once it is open. Either must be
 * the master key the account publishes (`/keys/query`). Each refusal signs nothing and is reported as the step's
 * typed `refusal`; the private key never leaves this module and is wiped after use.
 */
import { type Context, Effect, Either, Option, Redacted } from "effect"
import { type BackupVersionSuperseded, updateBackupVersionInPlace } from "../backup/VersionUpdate.js"
import { matchesBackup } from "../crypto/BackupKey.js"
import { ed25519PublicKeyFromSeed } from "../crypto/Ed25519.js"
import { signJson } from "../crypto/SignedJson.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import { decodeBase64OfLength, encodeBase64 } from "../schema/Base64.js"
import { UserIdKey } from "../schema/Ids.js"
import type { Failure, SecretStorage } from "../secret-storage/SecretStorage.js"
import type { BackupStore } from "../services/BackupStore.js"
import type { DeviceKeys } from "../services/DeviceKeys.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { ownIdentityFrom } from "../trust/OwnIdentity.js"
import { failureTag } from "./FailureTag.js"

/** The 4S secret holding the master key's 32-byte Ed25519 seed, unpadded base64. */
export const CROSS_SIGNING_MASTER_SECRET = "m.cross_signing.master"

/**
 * Why the sign step signed nothing: no master key at hand (the app gave none, Secret Storage is locked or holds none);
 * the master key at hand is not the account's published one; this device's backup key does not open the version.
 */
export type SignRefusal = "NoMasterKey" | "MasterKeyMismatch" | "BackupKeyDoesNotOpen"

/** The services the sign step uses. */
export interface SignDeps {
  readonly api: Context.Tag.Service<HomeserverApi>
  readonly store: Context.Tag.Service<BackupStore>
  readonly secretStorage: Context.Tag.Service<SecretStorage>
  readonly device: Context.Tag.Service<DeviceKeys>
}

/** A master key at hand: held by DeviceKeys (it signs with it), or read from 4S (its seed, wiped after signing). */
type MasterKey =
  | { readonly _tag: "Held"; readonly publicKey: string }
  | { readonly _tag: "SecretStorage"; readonly publicKey: string; readonly seed: Redacted.Redacted<Uint8Array> }

/** The key ids this device signs with: its device key, and the master key when held (read off a signed empty object). */
const signerKeyIds = (device: Context.Tag.Service<DeviceKeys>): Effect.Effect<ReadonlyArray<string>> =>
  device.canSign
    ? Effect.map(device.signJson({}), (signed) => {
        const signatures = signed["signatures"]
        const mine = typeof signatures === "object" && signatures !== null ? Object(signatures)[device.userId] : undefined
        return typeof mine === "object" && mine !== null ? Object.keys(mine) : []
      })
    : Effect.succeed([])

/** The master key id DeviceKeys signs with, if it holds one. */
export const heldMasterKeyId = (device: Context.Tag.Service<DeviceKeys>): Effect.Effect<string | undefined> =>
  Effect.map(signerKeyIds(device), (ids) => ids.find((keyId) => keyId !== `ed25519:${device.deviceId}`))

/** `m.cross_signing.master` from 4S without prompting: None when not stored, locked or not a 32-byte seed. */
const masterSeedFromSecretStorage = (ssss: Context.Tag.Service<SecretStorage>): Effect.Effect<Option.Option<Redacted.Redacted<Uint8Array>>, Failure> =>
  ssss.get(CROSS_SIGNING_MASTER_SECRET, { prompt: false }).pipe(
    Effect.map(Option.flatMap((secret) => Option.map(Either.getRight(decodeBase64OfLength(Redacted.value(secret), 32)), Redacted.make))),
    Effect.catchTag("SecretStorageError", () => Effect.succeedNone),
  )

/** Whether the master key is readable from 4S without asking anyone (it is open and holds it); the seed is wiped. */
export const masterKeyInSecretStorage = (ssss: Context.Tag.Service<SecretStorage>): Effect.Effect<boolean, Failure> =>
  Effect.map(masterSeedFromSecretStorage(ssss), (seed) => {
    Option.map(seed, (s) => Redacted.value(s).fill(0))
    return Option.isSome(seed)
  })

const findMasterKey = (deps: SignDeps): Effect.Effect<Option.Option<MasterKey>, Failure> =>
  Effect.gen(function* () {
    const held = yield* heldMasterKeyId(deps.device)
    if (held !== undefined) return Option.some<MasterKey>({ _tag: "Held", publicKey: held.slice("ed25519:".length) })
    const seed = yield* masterSeedFromSecretStorage(deps.secretStorage)
    return Option.map(seed, (s): MasterKey => ({ _tag: "SecretStorage", publicKey: encodeBase64(ed25519PublicKeyFromSeed(Redacted.value(s))), seed: s }))
  })

/** The master public key the account publishes, None when it publishes none (or not one signed as it should be). */
const publishedMasterKey = (deps: SignDeps) =>
  Effect.map(deps.api.queryKeys({ device_keys: { [UserIdKey.make(deps.device.userId)]: [] } }), (response) => ownIdentityFrom(response, deps.device.userId).masterKey)

/** The step's result: Done, a typed refusal, or Failed with the error's tag (never a value). */
export interface SignStep {
  readonly action: "SignBackup"
  readonly outcome: "Done" | "Skipped" | "Failed"
  readonly detail?: string
  readonly refusal?: SignRefusal
  /** Set when the server answered the update by making another version current (older Palpo): nothing was updated. */
  readonly superseded?: BackupVersionSuperseded
}

const refused = (refusal: SignRefusal, detail: string): SignStep => ({ action: "SignBackup", outcome: "Skipped", refusal, detail })

/** Whether the key this device caches is the current version's (we never vouch for a backup someone else could read). */
const cachedKeyOpens = (deps: SignDeps, info: KeyBackupInfo) =>
  Effect.map(deps.store.getBackupDecryptionKey(), (cached) =>
    Option.exists(cached, (held) => held.version === info.version && Either.getOrElse(matchesBackup(Redacted.value(held.key), info), () => false)),
  )

/** Signs the current version; the update keeps algorithm, public key and every other signature. */
export const signBackup = (deps: SignDeps): Effect.Effect<SignStep> =>
  Effect.gen(function* () {
    const info = yield* deps.api.getBackupVersion()
    const version = info.version
    if (version === undefined || !(yield* cachedKeyOpens(deps, info))) return refused("BackupKeyDoesNotOpen", "this device does not hold the current version's key")
    const found = yield* findMasterKey(deps)
    if (Option.isNone(found)) return refused("NoMasterKey", "no cross-signing master key: give it, or the recovery key of a Secret Storage that holds it")
    const master = found.value
    return yield* Effect.gen(function* () {
      const published = yield* publishedMasterKey(deps)
      if (Option.isNone(published)) return refused("MasterKeyMismatch", "the account publishes no cross-signing master key")
      if (published.value !== master.publicKey) return refused("MasterKeyMismatch", "the master key at hand is not the one the account publishes")
      const byDevice = deps.device.canSign ? yield* deps.device.signJson(info.auth_data.raw) : info.auth_data.raw
      const authData = master._tag === "Held" ? byDevice : signJson(byDevice, deps.device.userId, `ed25519:${master.publicKey}`, Redacted.value(master.seed))
      yield* updateBackupVersionInPlace(deps.api, version, { algorithm: info.algorithm, auth_data: authData, version })
      const source = master._tag === "Held" ? "" : ", master key from Secret Storage"
      return { action: "SignBackup" as const, outcome: "Done" as const, detail: `version ${version}${source}` }
    }).pipe(Effect.ensuring(Effect.sync(() => (master._tag === "SecretStorage" ? Redacted.value(master.seed).fill(0) : undefined))))
  }).pipe(
    Effect.catchTag("BackupVersionSuperseded", (superseded) =>
      Effect.succeed<SignStep>({ action: "SignBackup", outcome: "Failed", detail: superseded.message, superseded }),
    ),
    Effect.catchAll((error) => Effect.succeed<SignStep>({ action: "SignBackup", outcome: "Failed", detail: failureTag(error) })),
    Effect.withSpan("KeyStorage.signBackup"),
  )
