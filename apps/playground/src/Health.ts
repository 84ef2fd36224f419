/**
 * Key storage health on one device: core's diagnosis and repair as Effects, shown in core's words
 * (`KeyStorage.describeDiagnosis`, the lines `matrix-backup doctor` prints), so the page and the command agree.
 */
import { KeyStorage } from "@matrix-backup/core"
import { Effect, Redacted } from "effect"

/** The device's diagnosis. */
export const diagnose = Effect.flatMap(KeyStorage.KeyStorage, (keyStorage) => keyStorage.diagnoseKeyStorage())

/** Repairs what can be repaired, opening Secret Storage with `recoveryKey` when one is given. */
export const repair = (recoveryKey: string) =>
  Effect.flatMap(KeyStorage.KeyStorage, (keyStorage) =>
    keyStorage.repairKeyStorage(recoveryKey.trim() === "" ? {} : { secretStorageKey: { recoveryKey: Redacted.make(recoveryKey) } }),
  )

/** One line of the health panel: what it is about (a part of key storage, a drift, a repair step), and the action. */
export interface HealthLine {
  readonly kind: string
  readonly action: string
  readonly text: string
}

/** The diagnosis as lines: a summary, one per part of key storage, one per drift with its fix. */
export const diagnosisLines = (diagnosis: KeyStorage.KeyStorageDiagnosis): ReadonlyArray<HealthLine> =>
  KeyStorage.describeDiagnosis(diagnosis).map((line) => ({ kind: line.topic, action: line.action ?? "None", text: line.text }))

/** The repair's steps as lines. */
export const stepLines = (steps: ReadonlyArray<KeyStorage.RepairStep>): ReadonlyArray<HealthLine> =>
  steps.map((step) => ({ kind: step.action, action: step.outcome, text: KeyStorage.describeStep(step) }))
