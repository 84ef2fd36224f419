/**
 * What the bridge takes from a matrix-js-sdk client: its homeserver URL, access token and user id, and its crypto,
 * which must be able to import keys as backed up (`importBackedUpRoomKeys`, part of js-sdk's Rust crypto backend).
 */
import type { MatrixClient } from "matrix-js-sdk"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"
import type { CryptoApi } from "matrix-js-sdk/lib/crypto-api/index.js"
import { emptyProgress } from "./Progress.js"
import { RestoreKeyBackupError } from "./RestoreKeyBackupError.js"

/** The crypto methods the bridge uses. */
export type BridgeCrypto = CryptoApi & {
  /** Imports keys as backed up to `backupVersion`, so they are never uploaded to it again (PROTOCOL.md §8.4). */
  readonly importBackedUpRoomKeys: (keys: Array<IMegolmSessionData>, backupVersion: string) => Promise<void>
}

/** The client's connection and crypto. */
export interface ClientAccess {
  readonly baseUrl: string
  readonly accessToken: string
  readonly userId: string
  readonly crypto: BridgeCrypto
}

const canImportBackedUp = (crypto: CryptoApi): crypto is BridgeCrypto =>
  "importBackedUpRoomKeys" in crypto && typeof crypto.importBackedUpRoomKeys === "function"

/** Reads the client, or throws `NoCrypto` / `UnsupportedCrypto`. */
export const accessClient = (client: MatrixClient): ClientAccess => {
  const crypto = client.getCrypto()
  const accessToken = client.getAccessToken()
  const userId = client.getUserId()
  if (crypto === undefined || accessToken === null || userId === null) {
    throw new RestoreKeyBackupError("NoCrypto", "The client is not logged in or has no crypto (call initRustCrypto first)", emptyProgress())
  }
  if (!canImportBackedUp(crypto)) {
    throw new RestoreKeyBackupError("UnsupportedCrypto", "The client's crypto cannot import backed-up room keys", emptyProgress())
  }
  return { baseUrl: client.getHomeserverUrl(), accessToken, userId, crypto }
}
