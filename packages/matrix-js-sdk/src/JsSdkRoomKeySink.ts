/**
 * A `RoomKeySink` into matrix-js-sdk's crypto: each batch goes through `importBackedUpRoomKeys(keys, version)`, so
 * the keys count as backed up to that version and the client never uploads them again (PROTOCOL.md §8.4).
 */
import { RoomKey, RoomKeySink } from "@matrix-backup/core"
import type { Context } from "effect"
import { Effect } from "effect"
import type { IMegolmSessionData } from "matrix-js-sdk/lib/@types/crypto.js"
import type { BridgeCrypto } from "./ClientAccess.js"
import type { Tally } from "./Progress.js"

/** A restored key in js-sdk's session export shape (with `m.shared_history`, which matrix-rust-sdk reads). */
export const toSessionData = (key: RoomKey.RoomKey): IMegolmSessionData => {
  const exported = RoomKey.toExported(key)
  return {
    ...exported,
    sender_claimed_keys: { ...exported.sender_claimed_keys },
    forwarding_curve25519_key_chain: [...exported.forwarding_curve25519_key_chain],
  }
}

/** The sink; `tally.imported` grows only once js-sdk has accepted a batch. */
export const make = (crypto: BridgeCrypto, tally: Tally): Context.Tag.Service<RoomKeySink.RoomKeySink> =>
  RoomKeySink.make(({ keys, version }) =>
    Effect.tryPromise({
      try: () => crypto.importBackedUpRoomKeys(keys.map(toSessionData), version),
      catch: () => new RoomKeySink.RoomKeySinkError({ message: "matrix-js-sdk's crypto refused a batch of room keys" }),
    }).pipe(
      Effect.tap(() => Effect.sync(() => (tally.imported += keys.length))),
      // An import in flight finishes even when the restore is aborted, so `imported` stays exact.
      Effect.uninterruptible,
    ),
  )
