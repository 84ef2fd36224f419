// The diagnosis in words and as stable JSON: every part gets a line, each drift its fix; the JSON names variants
// by `kind`/`state`, never `_tag`, and carries the same lines.
import { describe, expect, it } from "@effect/vitest"
import { describeDiagnosis, describeStep } from "../../src/key-storage/DescribeDiagnosis.js"
import { diagnosisJson } from "../../src/key-storage/DiagnosisJson.js"
import type { KeyStorageDiagnosis } from "../../src/key-storage/KeyStorageDiagnosis.js"
import { RecoveryState } from "../../src/secret-storage/RecoveryState.js"

const drifted: KeyStorageDiagnosis = {
  preference: { _tag: "On", source: "m.key_backup" },
  server: {
    _tag: "Backup",
    version: "3",
    algorithm: "m.megolm_backup.v1.curve25519-aes-sha2",
    trusted: false,
    matchesDecryptionKey: true,
    trustReasons: ["ed25519:OTHER: DeviceNotVerified"],
    decryptionKey: "Matches",
    unsupportedAlgorithm: false,
    masterKeySignature: "Missing",
  },
  cachedKey: { _tag: "Cached", version: "3", matchesCurrent: true, opensLiveVersion: "3" },
  secretStorage: { defaultKey: "Aes", defaultKeyId: "k", backupKey: "Differs" },
  uploads: { state: "Uploading", activeVersion: "3", pending: 1 },
  recovery: RecoveryState.NotReady({ reason: "BackupKeyMismatch", defaultKeyId: "k", backupVersion: "3" }),
  drifts: [
    { kind: "BackupKeyMismatch", action: "StoreKeyInSecretStorage" },
    { kind: "BackupNotCrossSigned", action: "SignBackup", detail: "version 3" },
  ],
  healthy: false,
}

describe("describeDiagnosis", () => {
  it("one line per part, then one per drift with its fix", () => {
    expect(describeDiagnosis(drifted)).toEqual([
      { topic: "Summary", text: "Key storage: 2 problems." },
      { topic: "Preference", text: "Key storage preference: on." },
      { topic: "Backup", text: "Backup: version 3, not trusted, opened by this device's key." },
      { topic: "Device", text: "This device: holds the key of version 3 (the current one)." },
      { topic: "SecretStorage", text: "Secret Storage: holds the key of ANOTHER backup." },
      { topic: "Uploads", text: "Uploads: to version 3, 1 key waiting." },
      {
        topic: "BackupKeyMismatch",
        action: "StoreKeyInSecretStorage",
        text: "- Secret Storage holds the key of another backup, so a new device cannot restore this one: the repair stores this device's key in Secret Storage (with the recovery key).",
      },
      {
        topic: "BackupNotCrossSigned",
        action: "SignBackup",
        text: "- the current backup lacks the cross-signing signature, so devices that trust your identity do not trust it: the repair signs it with the cross-signing key.",
      },
    ])
  })

  it("a step: done with its detail, skipped with its reason, failed without detail", () => {
    expect(describeStep({ action: "SignBackup", outcome: "Done", detail: "version 3" })).toBe("Repair: signed the backup with the cross-signing key (version 3).")
    expect(describeStep({ action: "ResetBackup", outcome: "Skipped", detail: "pass allowReset" })).toBe("Repair: not done (pass allowReset).")
    expect(describeStep({ action: "SignBackup", outcome: "Failed", detail: "Forbidden" })).toBe(
      "Repair: failed (signing the backup); nothing was lost, diagnose again to see where things stand.",
    )
  })
})

describe("diagnosisJson", () => {
  it("names variants by kind and state, keeps every fact, and carries the lines", () => {
    const json = diagnosisJson(drifted)
    expect(JSON.stringify(json)).not.toContain("_tag")
    expect(json).toMatchObject({
      healthy: false,
      preference: { kind: "On", source: "m.key_backup" },
      server: { kind: "Backup", version: "3", trusted: false, masterKeySignature: "Missing" },
      cachedKey: { kind: "Cached", version: "3", matchesCurrent: true },
      recovery: { state: "NotReady", reason: "BackupKeyMismatch", defaultKeyId: "k", backupVersion: "3" },
      drifts: drifted.drifts,
      lines: describeDiagnosis(drifted),
    })
    expect(diagnosisJson({ ...drifted, server: { _tag: "None" }, cachedKey: { _tag: "None" }, preference: { _tag: "Unset" } })).toMatchObject({
      server: { kind: "None" },
      cachedKey: { kind: "None" },
      preference: { kind: "Unset" },
    })
    expect(diagnosisJson({ ...drifted, recovery: RecoveryState.Error({ cause: "x" }) }).recovery).toEqual({ state: "Error" })
  })
})
