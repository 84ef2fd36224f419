/**
 * Room keys in and out of the store, with matrix-js-sdk CryptoApi's names and shapes: `exportRoomKeys` gives
 * `IMegolmSessionData` objects (the entries of a key file), `importRoomKeys` takes them and queues them for backup.
 */
import { Chunk, type Context, Effect, Either, Schema, Stream } from "effect"
import { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import type { ImportRoomKeyProgressData } from "../restore/RestoreError.js"
import { type ExportedRoomKey, toExported } from "../schema/RoomKey.js"
import { BackupStore } from "../services/BackupStore.js"
import { KeyBackupClientError } from "./ClientError.js"
import type { Call } from "./ClientLayer.js"
import { fromExportedKeys } from "./Shapes.js"

/** matrix-js-sdk's `ImportRoomKeysOpts`. */
export interface ImportRoomKeysOpts {
  /** Called after each chunk of keys is stored (`load_keys`, with running totals); exceptions are ignored. */
  readonly progressCallback?: (progress: ImportRoomKeyProgressData) => void
  /** Accepted for js-sdk compatibility; ignored, as in js-sdk. */
  readonly source?: string
}

/** The methods this module adds to the client. */
export interface RoomKeyTransferMethods {
  /** Every room key held, as js-sdk's `IMegolmSessionData` (the key-file entry shape). */
  readonly exportRoomKeys: () => Promise<Array<ExportedRoomKey>>
  /** `exportRoomKeys` as a JSON array string (what js-sdk's `exportRoomKeysAsJson` gives). */
  readonly exportRoomKeysAsJson: () => Promise<string>
  /**
   * Stores keys from a key file (marked imported) and queues them for backup. All entries are checked first: a
   * malformed one rejects with `InvalidRoomKey` naming its index, and nothing is stored.
   */
  readonly importRoomKeys: (keys: ReadonlyArray<unknown>, opts?: ImportRoomKeysOpts) => Promise<void>
  /** `importRoomKeys` of a JSON array string; text that is not a JSON array rejects with `InvalidArgument`. */
  readonly importRoomKeysAsJson: (json: string, opts?: ImportRoomKeysOpts) => Promise<void>
}

/** Keys stored per write while importing (one progress report each). */
const IMPORT_CHUNK = 1000

const parseJsonArray = Schema.decodeUnknownEither(Schema.parseJson(Schema.Array(Schema.Unknown)))

const report = (callback: ImportRoomKeysOpts["progressCallback"], progress: ImportRoomKeyProgressData) => {
  try {
    callback?.(progress)
  } catch {
    // A throwing progress callback must not break the import.
  }
}

/** Builds the methods over the client's `call`. */
export const makeRoomKeyTransferMethods = (call: Call): RoomKeyTransferMethods => {
  const exportRoomKeys = () =>
    call(Effect.flatMap(BackupStore, (store) => Effect.map(Stream.runCollect(Stream.map(store.exportRoomKeys(), toExported)), Chunk.toArray)))
  const importRoomKeys = (keys: ReadonlyArray<unknown>, opts: ImportRoomKeysOpts = {}) =>
    call(
      Effect.gen(function* () {
        const decoded = yield* fromExportedKeys(keys, { imported: true, source: "file" })
        const engine: Context.Tag.Service<KeyBackupEngine> = yield* KeyBackupEngine
        const total = decoded.length
        for (let start = 0; start < total; start += IMPORT_CHUNK) {
          yield* engine.addRoomKeys(decoded.slice(start, start + IMPORT_CHUNK))
          report(opts.progressCallback, { stage: "load_keys", total, successes: Math.min(total, start + IMPORT_CHUNK), failures: 0 })
        }
      }),
    )
  return {
    exportRoomKeys,
    exportRoomKeysAsJson: async () => JSON.stringify(await exportRoomKeys()),
    importRoomKeys,
    importRoomKeysAsJson: (json, opts) =>
      Either.match(parseJsonArray(json), {
        onLeft: () => Promise.reject(new KeyBackupClientError("InvalidArgument", "InvalidArgument", "importRoomKeysAsJson: the text is not a JSON array")),
        onRight: (keys) => importRoomKeys(keys, opts),
      }),
  }
}
