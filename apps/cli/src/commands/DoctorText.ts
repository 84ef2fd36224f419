/**
 * `doctor` in words: core's lines for the diagnosis, the flag that lets `--fix` act on each drift, and each repair
 * step with the flag that does what was skipped.
 */
import { KeyStorage } from "@matrix-backup/core"

/** How to let `--fix` act on a drift from the command line. */
const ACTION: Record<KeyStorage.RepairAction, string> = {
  CacheKeyFromSecretStorage: "--fix takes the key from Secret Storage (give --recovery-key)",
  StoreKeyInSecretStorage: "--fix stores this device's key in Secret Storage (give --recovery-key)",
  ResumeUploads: "--fix checks the backup again and resumes uploads",
  SignBackup: "--fix signs it with the cross-signing master key it reads from Secret Storage (give --recovery-key)",
  UploadPendingKeys: "--fix uploads them",
  ResetBackup: "--fix --allow-reset makes a new backup with every key this device holds (older versions are deleted)",
  TurnOnKeyStorage: "--fix --turn-on turns key storage back on",
  EnterRecoveryKey: "give --recovery-key (or --passphrase)",
  SetUpSecretStorage: "run `matrix-backup create` to set up Secret Storage",
}

/** Skipped steps a flag would have run, in the flag's words; other steps read as core says them. */
const NOT_DONE: Partial<Record<KeyStorage.RepairStep["action"], string>> = {
  ResetBackup: "Repair: no new backup made: add --allow-reset to make one.",
  TurnOnKeyStorage: "Repair: key storage left off, as the account chose: add --turn-on to turn it on.",
  EnterRecoveryKey: "Repair: Secret Storage is locked: give --recovery-key (or --passphrase).",
  SetUpSecretStorage: "Repair: Secret Storage is not set up: run `matrix-backup create`.",
}

/** One repair step in words; a failed step names what failed, never a value. */
const stepText = (step: KeyStorage.RepairStep): string =>
  (step.outcome === "Skipped" ? NOT_DONE[step.action] : undefined) ?? KeyStorage.describeStep(step)

/**
 * The diagnosis in core's words (the same lines the playground and `--json`'s `lines` show), each drift followed by
 * the flags that let `--fix` act on it.
 */
export const diagnosisText = (d: KeyStorage.KeyStorageDiagnosis): ReadonlyArray<string> =>
  KeyStorage.describeDiagnosis(d).flatMap((line) => (line.action === undefined ? [line.text] : [line.text, `  ${ACTION[line.action]}.`]))

/** The steps of a repair, one line each. */
export const stepsText = (steps: ReadonlyArray<KeyStorage.RepairStep>): ReadonlyArray<string> =>
  steps.length === 0 ? ["Repair: nothing to do."] : steps.map(stepText)
