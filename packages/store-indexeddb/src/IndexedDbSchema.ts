/**
 * The IndexedDB schema and its upgrades, run in `onupgradeneeded` version by version. A database of
 * the same name that lacks our stores is refused ("Foreign"), never altered.
 */
import { BackupStore } from "@matrix-backup/core"
import { Effect } from "effect"
import { toStorageError } from "./IndexedDbRequest.js"

export const ROOM_KEYS = "roomKeys"
export const KV = "kv"
export const CHECKPOINTS = "checkpoints"
export const COUNTERS = "counters"
export const PENDING_INDEX = "pending"
/** `backedUpTo` of a key backed up nowhere: IndexedDB leaves null out of indexes, so "" stands for it. */
export const NONE = ""
export const TOTAL = "total"
export const backedUpName = (version: string) => `backedUp:${version}`

/** A stored room key record. */
export interface KeyRecord {
  readonly roomId: string
  readonly sessionId: string
  readonly firstKnownIndex: number
  readonly backedUpTo: string
  readonly revision: number
  readonly data: string
}

const field = (value: object, name: string): unknown => Reflect.get(value, name)

/** Checks a value read from the store; a malformed one is reported as corrupt (TypeError). */
export const toKeyRecord = (value: unknown): KeyRecord => {
  if (typeof value !== "object" || value === null) throw new TypeError("room key record")
  const roomId = field(value, "roomId")
  const sessionId = field(value, "sessionId")
  const firstKnownIndex = field(value, "firstKnownIndex")
  const backedUpTo = field(value, "backedUpTo")
  const revision = field(value, "revision")
  const data = field(value, "data")
  if (
    typeof roomId !== "string" ||
    typeof sessionId !== "string" ||
    typeof firstKnownIndex !== "number" ||
    typeof backedUpTo !== "string" ||
    typeof revision !== "number" ||
    typeof data !== "string"
  ) {
    throw new TypeError("room key record")
  }
  return { roomId, sessionId, firstKnownIndex, backedUpTo, revision, data }
}

/**
 * Version 1 kept records with `backedUpTo: null` and no index; counting meant reading every record.
 * Version 2 adds the counters store (filled here from the existing records), rewrites null as NONE
 * and adds the index that pending queries walk.
 */
const UPGRADES: ReadonlyArray<(db: IDBDatabase, tx: IDBTransaction) => void> = [
  (db) => {
    db.createObjectStore(ROOM_KEYS, { keyPath: ["roomId", "sessionId"] })
    db.createObjectStore(KV, { keyPath: "name" })
    db.createObjectStore(CHECKPOINTS, { keyPath: ["version", "roomId"] })
  },
  (db, tx) => {
    const counters = db.createObjectStore(COUNTERS, { keyPath: "name" })
    const keys = tx.objectStore(ROOM_KEYS)
    const totals = new Map<string, number>([[TOTAL, 0]])
    const add = (name: string) => totals.set(name, (totals.get(name) ?? 0) + 1)
    const cursorRequest = keys.openCursor()
    cursorRequest.onsuccess = () => {
      const cursor = cursorRequest.result
      if (cursor === null) {
        for (const [name, value] of totals) counters.put({ name, value })
        return
      }
      const value: unknown = cursor.value
      const backedUpTo = typeof value === "object" && value !== null ? field(value, "backedUpTo") : undefined
      add(TOTAL)
      if (typeof backedUpTo === "string" && backedUpTo !== NONE) add(backedUpName(backedUpTo))
      else if (typeof value === "object" && value !== null) cursor.update({ ...value, backedUpTo: NONE })
      cursor.continue()
    }
    keys.createIndex(PENDING_INDEX, ["backedUpTo", "roomId", "sessionId"])
  },
]

/** The version this code writes. */
export const SCHEMA_VERSION = UPGRADES.length
const STORES_OF: ReadonlyArray<ReadonlyArray<string>> = [[], [ROOM_KEYS, KV, CHECKPOINTS], [ROOM_KEYS, KV, CHECKPOINTS, COUNTERS]]

const foreign = () =>
  new BackupStore.StorageError({ reason: "Foreign", message: "An IndexedDB database of this name belongs to another application" })

/** Opens (creating or upgrading to `version`) the database `name`. */
export const openDatabase = (
  factory: IDBFactory,
  name: string,
  version: number = SCHEMA_VERSION,
): Effect.Effect<IDBDatabase, BackupStore.StorageError> =>
  Effect.async((resume) => {
    let isForeign = false
    let upgrading = false
    let request: IDBOpenDBRequest
    try {
      request = factory.open(name, version)
    } catch (error) {
      resume(Effect.fail(toStorageError("open", error, "Open")))
      return
    }
    request.onupgradeneeded = (event) => {
      const db = request.result
      const tx = request.transaction
      if (tx === null) return
      upgrading = true
      if (event.oldVersion > 0 && !db.objectStoreNames.contains(ROOM_KEYS)) {
        isForeign = true
        tx.abort()
        return
      }
      for (let v = event.oldVersion; v < version; v++) UPGRADES[v]?.(db, tx)
    }
    request.onsuccess = () => {
      const db = request.result
      if (!(STORES_OF[version] ?? []).every((store) => db.objectStoreNames.contains(store))) {
        db.close()
        resume(Effect.fail(foreign()))
        return
      }
      db.onversionchange = () => db.close()
      resume(Effect.succeed(db))
    }
    request.onerror = () =>
      resume(Effect.fail(isForeign ? foreign() : toStorageError("open", request.error, upgrading ? "Migration" : undefined)))
  })
