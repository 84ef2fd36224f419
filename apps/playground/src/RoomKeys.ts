/**
 * Realistic Megolm room keys made in the page: a session export (version, index 0, a random 128-byte ratchet,
 * the session's Ed25519 signing key) whose signing key is the session id, from a few sender devices.
 */
import { Base64, Ed25519, RoomKey, SessionExport } from "@matrix-backup/core"
import { Curve25519 } from "@matrix-backup/core/adapter"

const random = (n: number) => globalThis.crypto.getRandomValues(new Uint8Array(n))

/** `count` keys spread over `rooms` rooms. */
export const generateRoomKeys = (count: number, rooms = Math.max(1, Math.ceil(count / 100))): Array<RoomKey.RoomKey> => {
  const roomIds = Array.from({ length: rooms }, (_, i) => `!room${i}-${Base64.encodeBase64(random(6)).replace(/[+/]/g, "x")}:localhost`)
  const senders = Array.from({ length: 4 }, () => ({
    curve25519: Base64.encodeBase64(Curve25519.publicKeyFromPrivateKey(random(32))),
    ed25519: Base64.encodeBase64(Ed25519.ed25519PublicKeyFromSeed(random(32))),
  }))
  return Array.from({ length: count }, (_, i): RoomKey.RoomKey => {
    const signing = Ed25519.ed25519PublicKeyFromSeed(random(32))
    const sender = senders[i % senders.length] ?? { curve25519: "", ed25519: "" }
    return {
      roomId: roomIds[i % roomIds.length] ?? "!room:localhost",
      sessionId: Base64.encodeBase64(signing),
      algorithm: RoomKey.MEGOLM_V1_AES_SHA2,
      senderKey: sender.curve25519,
      sessionKey: SessionExport.makeSessionExport(0, random(128), signing),
      senderClaimedKeys: { ed25519: sender.ed25519 },
      forwardingCurve25519KeyChain: [],
      firstKnownIndex: 0,
      sharedHistory: false,
      imported: false,
      source: "direct",
    }
  })
}
