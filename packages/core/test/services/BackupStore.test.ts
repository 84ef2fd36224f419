import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Option, Redacted } from "effect"
import { webcrypto } from "node:crypto"
import { decodeBase64 } from "../../src/schema/Base64.js"
import type { RoomKey } from "../../src/schema/RoomKey.js"
import * as BackupStore from "../../src/services/BackupStore.js"
import * as EncodedStore from "../../src/store/EncodedStore.js"
import * as MemoryEncoded from "../../src/store/MemoryEncoded.js"
import * as StoreMerge from "../../src/store/Merge.js"
import { open, seal } from "../../src/store/AtRest.js"
import { decodeRoomKey, encodeRoomKey } from "../../src/store/RecordCodec.js"

const key = (sessionId: string, firstKnownIndex: number, sessionKey = `AQAAAA-${sessionId}-${firstKnownIndex}`): RoomKey => ({
  roomId: "!r:example.org",
  sessionId,
  algorithm: "m.megolm.v1.aes-sha2",
  senderKey: "curve",
  sessionKey,
  senderClaimedKeys: { ed25519: "ed" },
  forwardingCurve25519KeyChain: [],
  firstKnownIndex,
  sharedHistory: false,
  imported: false,
})

describe("BackupStore merge rule", () => {
  const stored = (firstKnownIndex: number, backedUpTo: string | null) => ({ firstKnownIndex, backedUpTo, revision: 1 })
  it("inserts new keys, replaces on a lower index, keeps ties and higher indices", () => {
    expect(StoreMerge.decideMerge(undefined, 5, null)).toBe("insert")
    expect(StoreMerge.decideMerge(stored(5, null), 4, null)).toBe("replace")
    expect(StoreMerge.decideMerge(stored(5, "1"), 5, null)).toBe("keep")
    expect(StoreMerge.decideMerge(stored(5, null), 6, "1")).toBe("keep")
  })
  it("marks a stored equal copy as backed up to the version an equal restored copy came from", () => {
    expect(StoreMerge.decideMerge(stored(5, null), 5, "1")).toBe("mark")
    expect(StoreMerge.decideMerge(stored(5, "2"), 5, "1")).toBe("mark")
    expect(StoreMerge.decideMerge(stored(5, "1"), 5, "1")).toBe("keep")
  })
  it("counter deltas: insert counts the version, a move takes from one and gives to the other", () => {
    const delta = new StoreMerge.CounterDelta()
    delta.insert(null)
    delta.insert("1")
    delta.move(null, "2")
    delta.move("1", "2")
    delta.move("2", "2")
    expect(delta.total).toBe(2)
    expect(Object.fromEntries(delta.backedUp)).toEqual({ "1": 0, "2": 2 })
    const other = new StoreMerge.CounterDelta()
    other.insert("1")
    other.move("2", null)
    delta.merge(other)
    expect([delta.total, Object.fromEntries(delta.backedUp)]).toEqual([3, { "1": 1, "2": 1 }])
  })
})

describe("BackupStore record codec", () => {
  it("round-trips a key with source and extra fields", () => {
    const k = { ...key("s", 3), source: "backup" as const, extra: { untrusted: true } }
    expect(decodeRoomKey(encodeRoomKey(k))).toEqual(Either.right(k))
  })
  it("reports a damaged row as Corrupt without its contents", () => {
    const row = { ...encodeRoomKey(key("s", 3)), data: '{"sessionKey":"AQAAAAsecret"}' }
    const error = Either.getLeft(decodeRoomKey(row)).pipe(Option.getOrThrow)
    expect(error.reason).toBe("Corrupt")
    expect(error.message).not.toContain("AQAAAA")
    expect(Either.isLeft(decodeRoomKey({ ...row, data: "not json" }))).toBe(true)
    expect(Either.isLeft(decodeRoomKey({ ...encodeRoomKey(key("s", 3)), firstKnownIndex: -1 }))).toBe(true)
  })
})

describe("BackupStore at-rest sealing", () => {
  const atRestKey = Redacted.make(new Uint8Array(32).fill(7))
  it("is AES-256-GCM with the value name as associated data (checked with Web Crypto)", async () => {
    const plaintext = new TextEncoder().encode("backup key bytes")
    const text = Either.getOrThrow(seal(atRestKey, "slot", plaintext))
    const envelope: { nonce: string; ct: string } = JSON.parse(text)
    const cryptoKey = await webcrypto.subtle.importKey("raw", Redacted.value(atRestKey), "AES-GCM", false, ["decrypt"])
    const nonce = decodeBase64(envelope.nonce) ?? new Uint8Array()
    const ct = decodeBase64(envelope.ct) ?? new Uint8Array()
    const name = new TextEncoder().encode("slot")
    const opened = await webcrypto.subtle.decrypt({ name: "AES-GCM", iv: nonce, additionalData: name }, cryptoKey, ct)
    expect(new Uint8Array(opened)).toEqual(plaintext)
    expect(Either.getOrThrow(open(atRestKey, "slot", text))).toEqual(plaintext)
  })
  it("refuses another slot name, another key, a missing key and a short key", () => {
    const text = Either.getOrThrow(seal(atRestKey, "slot", new Uint8Array([1, 2, 3])))
    const reason = (e: Either.Either<unknown, BackupStore.StorageError>) => Either.getLeft(e).pipe(Option.map((x) => x.reason))
    expect(reason(open(atRestKey, "other", text))).toEqual(Option.some("WrongEncryptionKey"))
    expect(reason(open(Redacted.make(new Uint8Array(32)), "slot", text))).toEqual(Option.some("WrongEncryptionKey"))
    expect(reason(open(undefined, "slot", text))).toEqual(Option.some("WrongEncryptionKey"))
    expect(reason(open(Redacted.make(new Uint8Array(16)), "slot", text))).toEqual(Option.some("WrongEncryptionKey"))
    expect(reason(open(atRestKey, "slot", "garbage"))).toEqual(Option.some("Corrupt"))
  })
  it("uses a fresh nonce per write", () => {
    const a = Either.getOrThrow(seal(atRestKey, "slot", new Uint8Array([1])))
    const b = Either.getOrThrow(seal(atRestKey, "slot", new Uint8Array([1])))
    expect(a).not.toBe(b)
  })
})

describe("BackupStore.layerMemory", () => {
  it.effect("upserts, counts, takes pending and marks", () =>
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      expect(yield* store.upsertRoomKeys([key("a", 2), key("b", 0), key("a", 1)])).toEqual({ inserted: 2, replaced: 1, kept: 0 })
      expect(yield* store.countPending("1")).toBe(2)
      const pending = yield* store.pendingRoomKeys("1", 10)
      expect(pending.map((k) => [k.sessionId, k.firstKnownIndex])).toEqual([["b", 0], ["a", 1]])
      expect(yield* store.markBackedUp("1", pending)).toBe(2)
      expect(yield* store.countPending("1")).toBe(0)
      expect(yield* store.countPending("2")).toBe(2)
      expect(yield* store.countTotal()).toBe(2)
      const stored = yield* store.getRoomKey("!r:example.org", "a")
      expect(Option.map(stored, (k) => k.backedUpTo)).toEqual(Option.some("1"))
    }).pipe(Effect.provide(BackupStore.layerMemory)),
  )
  it.effect("rejects an empty version as a Constraint error", () =>
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      const error = yield* Effect.flip(store.countPending(""))
      expect(error.reason).toBe("Constraint")
    }).pipe(Effect.provide(BackupStore.layerMemory)),
  )
})

describe("BackupStore secrets and the at-rest check value", () => {
  const atRestKey = Redacted.make(new Uint8Array(32).fill(3))
  it.effect("a store written without a key stays readable when a key is added, and new writes are sealed", () =>
    Effect.gen(function* () {
      const tables = MemoryEncoded.makeMemoryEncoded()
      const plain = EncodedStore.makeEncoded(tables)
      yield* plain.cacheSecretStorageKey("k", Redacted.make(new Uint8Array([1, 2, 3])))
      const sealed = EncodedStore.makeEncoded(tables, { atRestKey })
      const read = yield* sealed.getCachedSecretStorageKey("k")
      expect(Option.map(read, (r) => [...Redacted.value(r)])).toEqual(Option.some([1, 2, 3]))
      yield* sealed.storeBackupDecryptionKey(Redacted.make(new Uint8Array(32).fill(4)), "5")
      const stored = yield* tables.getValue("backup.decryptionKey")
      expect(stored === undefined ? undefined : JSON.parse(stored).alg).toBe("A256GCM")
      expect((yield* Effect.flip(plain.getBackupDecryptionKey())).reason).toBe("WrongEncryptionKey")
    }))
  it.effect("a damaged backup state or sealed value is Corrupt, not a crash", () =>
    Effect.gen(function* () {
      const tables = MemoryEncoded.makeMemoryEncoded()
      const store = EncodedStore.makeEncoded(tables)
      yield* tables.setValue("backup.state", "{not json")
      expect((yield* Effect.flip(store.getBackupState())).reason).toBe("Corrupt")
      yield* tables.setValue("backup.decryptionKey", JSON.stringify({ v: 1, alg: "none", data: "AAA" }))
      expect((yield* Effect.flip(store.getBackupDecryptionKey())).reason).toBe("Corrupt")
    }))
})

describe("BackupStore backup state", () => {
  it.effect("backup info that JSON cannot hold is a Constraint error and keeps the stored state", () =>
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      yield* store.setBackupState({ activeVersion: "1", backupInfo: { version: "1" } })
      const error = yield* Effect.flip(store.setBackupState({ activeVersion: "2", backupInfo: { n: BigInt(1) } }))
      expect(error.reason).toBe("Constraint")
      expect(yield* store.getBackupState()).toEqual({ activeVersion: "1", backupInfo: { version: "1" } })
    }).pipe(Effect.provide(BackupStore.layerMemory)),
  )
  it.effect("a key whose extra fields JSON cannot hold is a Constraint error and nothing is written", () =>
    Effect.gen(function* () {
      const store = yield* BackupStore.BackupStore
      const error = yield* Effect.flip(store.upsertRoomKeys([key("a", 0), { ...key("b", 0), extra: { n: BigInt(1) } }]))
      expect(error.reason).toBe("Constraint")
      expect(yield* store.countTotal()).toBe(0)
    }).pipe(Effect.provide(BackupStore.layerMemory)),
  )
})
