/**
 * Which device the facade acts as, made explicit: with the device's Ed25519 signing key (full trust checks, new
 * backups signed) or without it (trust from the held decryption key only; creating a backup fails with `NoSigningKey`).
 */
import { Effect, Layer, Redacted } from "effect"
import * as DeviceKeys from "../services/DeviceKeys.js"
import type { HomeserverApi } from "../services/HomeserverApi.js"
import { KeyBackupClientError } from "./ClientError.js"
import { type HomeserverConnection, isHomeserverConnection } from "./ClientPorts.js"

/** The identity options of `createKeyBackupClient`. */
export interface DeviceIdentityOptions {
  readonly homeserver: HomeserverConnection | Layer.Layer<HomeserverApi, unknown>
  /** The 32-byte Ed25519 seed of this device's signing key (copied; the caller may wipe its own). */
  readonly deviceSigningKey?: Uint8Array
  /**
   * The 32-byte seed of the user's cross-signing master key, when this device holds it (js-sdk's
   * `exportCrossSigningKeys().masterKey`, decoded): new backups are signed by it too, and backups it signed are trusted.
   * Needs `deviceSigningKey`.
   */
  readonly crossSigningMasterKey?: Uint8Array
  /** For SDK authors: the identity as a DeviceKeys layer or seeds; takes precedence over the two options above. */
  readonly deviceKeys?: Layer.Layer<DeviceKeys.DeviceKeys> | DeviceKeys.SeedOptions
}

const invalid = (message: string) => new KeyBackupClientError("InvalidArgument", "InvalidArgument", message)

/** The DeviceKeys layer for the options, or `InvalidArgument` (a seed of the wrong size; no identity at all). */
export const deviceKeysLayerOf = (options: DeviceIdentityOptions): Layer.Layer<DeviceKeys.DeviceKeys, KeyBackupClientError> => {
  const given = options.deviceKeys
  if (given !== undefined) {
    if (!("deviceSeed" in given)) return given
    const sizes = [given.deviceSeed, given.masterSeed].map((seed) => (seed === undefined ? 32 : Redacted.value(seed).length))
    return sizes.every((size) => size === 32) ? DeviceKeys.layerFromSeeds(given) : Layer.fail(invalid("deviceKeys: Ed25519 seeds are 32 bytes"))
  }
  const homeserver = options.homeserver
  if (!isHomeserverConnection(homeserver)) return Layer.fail(invalid("deviceKeys is required when homeserver is a Layer (fetchHomeserver carries the identity)"))
  const identity = { userId: homeserver.userId, deviceId: homeserver.deviceId }
  const seed = options.deviceSigningKey
  const master = options.crossSigningMasterKey
  if (seed === undefined) {
    return master === undefined ? DeviceKeys.layerWithoutSigningKey(identity) : Layer.fail(invalid("crossSigningMasterKey needs deviceSigningKey"))
  }
  if (seed.length !== 32) return Layer.fail(invalid(`deviceSigningKey must be a 32-byte Ed25519 seed, got ${seed.length} bytes`))
  if (master !== undefined && master.length !== 32) return Layer.fail(invalid(`crossSigningMasterKey must be a 32-byte Ed25519 seed, got ${master.length} bytes`))
  const seeds = {
    ...identity,
    deviceSeed: Redacted.make(Uint8Array.from(seed)),
    ...(master === undefined ? {} : { masterSeed: Redacted.make(Uint8Array.from(master)) }),
  }
  return Layer.effect(DeviceKeys.DeviceKeys, Effect.sync(() => DeviceKeys.makeFromSeeds(seeds)))
}
