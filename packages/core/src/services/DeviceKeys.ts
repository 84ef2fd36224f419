/**
 * The DeviceKeys port: this device's signing identity (Ed25519 device key, and the cross-signing master key when
 * the app holds it), used to sign new backup `auth_data` and to judge signatures on it (PROTOCOL.md §7.3, §7.5).
 */
import { Context, Effect, Layer, Option, Redacted } from "effect"
import { ed25519PublicKeyFromSeed } from "../crypto/Ed25519.js"
import { signJson } from "../crypto/SignedJson.js"
import { encodeBase64 } from "../schema/Base64.js"

/** The device identity the app hands to the engine. Public keys are unpadded base64. */
export class DeviceKeys extends Context.Tag("@matrix-backup/core/DeviceKeys")<
  DeviceKeys,
  {
    readonly userId: string
    readonly deviceId: string
    /** This device's Ed25519 key (`keys["ed25519:<deviceId>"]` in its device keys); "" when the app did not give it. */
    readonly ed25519PublicKey: string
    /** Whether the device's signing key is held: without it nothing new can be signed (e.g. a new backup version). */
    readonly canSign: boolean
    /** Adds the device signature, and the master-key signature when the master private key is held; needs `canSign`. */
    readonly signJson: (object: Record<string, unknown>) => Effect.Effect<Record<string, unknown>>
    /** Our cross-signing master public key as known locally (held, or verified by the app). */
    readonly masterPublicKey: Option.Option<string>
    /** True when our own cross-signing identity is trusted locally (e.g. we hold the master private key). */
    readonly isOwnIdentityVerified: () => Effect.Effect<boolean>
    /** Local verification of one of our devices; cross-signing is checked separately by the trust code. */
    readonly isDeviceVerified: (deviceId: string) => Effect.Effect<boolean>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<DeviceKeys>

/** Options of `layerFromSeeds`. Seeds are the 32-byte Ed25519 private keys. */
export interface SeedOptions {
  readonly userId: string
  readonly deviceId: string
  readonly deviceSeed: Redacted.Redacted<Uint8Array>
  /** The cross-signing master private key, when this device holds it. */
  readonly masterSeed?: Redacted.Redacted<Uint8Array>
  /** Master public key trusted without holding its private part (e.g. verified by the user). */
  readonly trustedMasterPublicKey?: string
  /** Other own devices the user verified locally. */
  readonly verifiedDevices?: ReadonlyArray<string>
}

const checkSeed = (seed: Uint8Array, what: string): void => {
  if (seed.length !== 32) throw new RangeError(`DeviceKeys: the ${what} seed must be 32 bytes, got ${seed.length}`)
}

/** Builds the service from seeds. Throws a RangeError (no key material in it) for a seed of the wrong length. */
export const makeFromSeeds = (options: SeedOptions): Service => {
  const deviceSeed = Uint8Array.from(Redacted.value(options.deviceSeed))
  checkSeed(deviceSeed, "device")
  const masterSeed = options.masterSeed === undefined ? undefined : Uint8Array.from(Redacted.value(options.masterSeed))
  if (masterSeed !== undefined) checkSeed(masterSeed, "master")
  // Computed on first use (judging or signing a backup), not when the layer is built: it costs tens of ms at start-up.
  let ed25519PublicKey: string | undefined
  const heldMaster = masterSeed === undefined ? undefined : encodeBase64(ed25519PublicKeyFromSeed(masterSeed))
  const masterPublicKey = Option.fromNullable(heldMaster ?? options.trustedMasterPublicKey)
  const verified = new Set(options.verifiedDevices ?? [])
  return {
    userId: options.userId,
    deviceId: options.deviceId,
    get ed25519PublicKey() {
      ed25519PublicKey ??= encodeBase64(ed25519PublicKeyFromSeed(deviceSeed))
      return ed25519PublicKey
    },
    canSign: true,
    masterPublicKey,
    signJson: (object) =>
      Effect.sync(() => {
        const signed = signJson(object, options.userId, `ed25519:${options.deviceId}`, deviceSeed)
        return masterSeed === undefined || heldMaster === undefined
          ? signed
          : signJson(signed, options.userId, `ed25519:${heldMaster}`, masterSeed)
      }),
    isOwnIdentityVerified: () => Effect.succeed(Option.isSome(masterPublicKey)),
    isDeviceVerified: (deviceId) => Effect.succeed(deviceId === options.deviceId || verified.has(deviceId)),
  }
}

/** The port from seeds (the app keeps the seeds; they never leave this closure). */
export const layerFromSeeds = (options: SeedOptions): Layer.Layer<DeviceKeys> =>
  Layer.sync(DeviceKeys, () => makeFromSeeds(options))

/** Who the device is when the app cannot give its signing key (its crypto stack keeps it). */
export interface IdentityOptions {
  readonly userId: string
  readonly deviceId: string
}

/**
 * A device without its signing key: backups are trusted only through the decryption key held for them (as
 * matrix-js-sdk trusts a backup it holds the key to), and operations that sign (a new backup) fail before they start.
 */
export const makeWithoutSigningKey = (options: IdentityOptions): Service => ({
  userId: options.userId,
  deviceId: options.deviceId,
  ed25519PublicKey: "",
  canSign: false,
  masterPublicKey: Option.none(),
  // Callers check `canSign` first; reaching this is a bug in the caller, not an expected failure.
  signJson: () => Effect.die(new Error("DeviceKeys: signJson called on a device without its signing key")),
  isOwnIdentityVerified: () => Effect.succeed(false),
  isDeviceVerified: (deviceId) => Effect.succeed(deviceId === options.deviceId),
})

/** The port for a device whose signing key the app does not hold. */
export const layerWithoutSigningKey = (options: IdentityOptions): Layer.Layer<DeviceKeys> =>
  Layer.sync(DeviceKeys, () => makeWithoutSigningKey(options))
