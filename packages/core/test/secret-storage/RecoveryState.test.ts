// The recovery state as a pure function of the facts: every reason, and which one is reported first.
import { describe, expect, it } from "@effect/vitest"
import { RecoveryState } from "../../src/secret-storage/Recovery.js"
import { type RecoveryFacts, recoveryStateOf } from "../../src/secret-storage/RecoveryState.js"

const ready: RecoveryFacts = {
  defaultKeyId: "k",
  defaultKey: "Aes",
  backupVersion: "3",
  backupIsCurrent: true,
  backupKeyStored: true,
  storedKeyMatches: true,
  localKeyMatches: true,
}

describe("recoveryStateOf", () => {
  it("is Ready only when every fact holds; an unknown 4S match counts as fine", () => {
    expect(recoveryStateOf(ready)).toEqual(RecoveryState.Ready({ defaultKeyId: "k", backupVersion: "3" }))
    expect(recoveryStateOf({ ...ready, storedKeyMatches: undefined })._tag).toBe("Ready")
  })

  it.each([
    [{ defaultKeyId: undefined }, "NoSecretStorage"],
    [{ defaultKey: "Absent" }, "DefaultKeyMissing"],
    [{ defaultKey: "Unknown" }, "UnsupportedDefaultKey"],
    [{ backupVersion: undefined }, "NoBackup"],
    [{ backupIsCurrent: false }, "BackupNotCurrent"],
    [{ backupKeyStored: false }, "BackupKeyNotInSecretStorage"],
    [{ storedKeyMatches: false }, "BackupKeyMismatch"],
    [{ localKeyMatches: false }, "BackupKeyNotCached"],
  ] as const)("%o gives NotReady %s", (change, reason) => {
    expect(recoveryStateOf({ ...ready, ...change })).toMatchObject({ _tag: "NotReady", reason })
  })

  it("reports the most basic missing piece first, with only the ids it knows", () => {
    const state = recoveryStateOf({ ...ready, defaultKeyId: undefined, backupVersion: undefined, localKeyMatches: false })
    expect(state).toEqual(RecoveryState.NotReady({ reason: "NoSecretStorage" }))
    expect(recoveryStateOf({ ...ready, backupVersion: undefined, backupIsCurrent: false })).toMatchObject({ reason: "NoBackup" })
    expect(recoveryStateOf({ ...ready, backupIsCurrent: false, backupKeyStored: false })).toEqual(
      RecoveryState.NotReady({ reason: "BackupNotCurrent", defaultKeyId: "k", backupVersion: "3" }),
    )
    expect(recoveryStateOf({ ...ready, backupKeyStored: false, localKeyMatches: false })).toEqual(
      RecoveryState.NotReady({ reason: "BackupKeyNotInSecretStorage", defaultKeyId: "k", backupVersion: "3" }),
    )
  })
})
