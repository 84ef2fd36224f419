/**
 * `repairKeyStorage`: fixes the drifts a diagnosis finds, in its order, each step reported, nothing lost. It never
 * makes a new version (which deletes the others) unless the app passes `allowReset`, and then first restores the
 * older version our key opens, so the keys it holds are carried into the new one with the keys of this device.
 */
import { type Context, Effect, Either, Option, Redacted } from "effect"
import { type BackupVersionSuperseded, carryIntoNewVersion } from "../backup/VersionUpdate.js"
import { encodeBackupKeySecret } from "../crypto/BackupKey.js"
import type { KeyBackupRestore } from "../restore/KeyBackupRestore.js"
import { MEGOLM_BACKUP_SECRET } from "../schema/SecretStorage.js"
import type { CrossSigningKeys } from "../secret-storage/CrossSigningSecrets.js"
import type { GeneratedSecretStorageKey } from "../secret-storage/GeneratedKey.js"
import type { SecretStorageKeyInput } from "../secret-storage/OpenSecretStorage.js"
import { diagnoseKeyStorage, type DiagnoseDeps, type DiagnoseError, type DiagnoseOptions } from "./Diagnose.js"
import { failureTag } from "./FailureTag.js"
import type { KeyStorageDiagnosis, RepairAction } from "./KeyStorageDiagnosis.js"
import { writeKeyStoragePreference } from "./KeyStoragePreference.js"
import { signBackup, type SignRefusal } from "./SignBackup.js"

export type { SignRefusal } from "./SignBackup.js"

/** What a repair needs to set up Secret Storage when the account has none (e.g. after key storage was turned off). */
export interface NewSecretStorage {
  /** Makes the new 4S key (usually `createRecoveryKeyFromPassphrase`; the app shows its `encodedPrivateKey`). */
  readonly createSecretStorageKey: () => Effect.Effect<GeneratedSecretStorageKey, unknown>
  /** The cross-signing private keys the app holds, stored in the new 4S so new devices can trust the identity again. */
  readonly crossSigningKeys?: CrossSigningKeys
}

/** Options of a repair. */
export interface RepairOptions extends DiagnoseOptions {
  /** Opens Secret Storage first (needed to read or write the backup key there unless the callbacks give it). */
  readonly secretStorageKey?: SecretStorageKeyInput
  /** May make a new backup version: every other version, and keys only they hold, are deleted. */
  readonly allowReset?: boolean
  /** Turns key storage back on when the account chose none (MSC4287); otherwise such an account is left alone. */
  readonly turnOnKeyStorage?: boolean
  /** Sets up Secret Storage when the account has none usable; without it that drift is only reported. */
  readonly setUpSecretStorage?: NewSecretStorage
  /** How long to wait for pending keys to upload (default: the engine's steady-state timeout). */
  readonly timeoutMs?: number
}

/** One step and how it went; `detail` never holds key material. */
export interface RepairStep {
  readonly action: RepairAction | "OpenSecretStorage" | "RestoreOlderVersion"
  readonly outcome: "Done" | "Skipped" | "Failed"
  readonly detail?: string
  /** Set when the sign step declined (it signed nothing). */
  readonly refusal?: SignRefusal
}

/** What a repair did, with the diagnosis before and after. */
export interface RepairResult {
  readonly before: KeyStorageDiagnosis
  readonly steps: ReadonlyArray<RepairStep>
  readonly after: KeyStorageDiagnosis
}

/** The services a repair uses. */
export interface RepairDeps extends DiagnoseDeps {
  readonly restore: Context.Tag.Service<KeyBackupRestore>
}

/** Runs `effect` as one step: Done with its detail, or Failed with the error's tag. */
const step = <E extends { readonly _tag: string }>(action: RepairStep["action"], effect: Effect.Effect<string | undefined, E>): Effect.Effect<RepairStep> =>
  Effect.match(effect, {
    onFailure: (error): RepairStep => ({ action, outcome: "Failed", detail: failureTag(error) }),
    onSuccess: (detail): RepairStep => ({ action, outcome: "Done", ...(detail === undefined ? {} : { detail }) }),
  })

const skipped = (action: RepairAction, detail: string): RepairStep => ({ action, outcome: "Skipped", detail })

/** Copies the cached key (the diagnosis found it is the current version's) into 4S. */
const storeCachedKey = (deps: RepairDeps) =>
  Effect.gen(function* () {
    const cached = yield* deps.store.getBackupDecryptionKey()
    if (Option.isNone(cached)) return "no cached key"
    yield* deps.secretStorage.store(MEGOLM_BACKUP_SECRET, Redacted.make(encodeBackupKeySecret(Redacted.value(cached.value.key))))
    return `version ${cached.value.version}`
  })

/** A new version carrying every key we hold: first those of the older live version our key opens. */
const resetCarryingKeys = (deps: RepairDeps, before: KeyStorageDiagnosis) =>
  Effect.gen(function* () {
    const steps: Array<RepairStep> = []
    const cached = before.cachedKey
    const current = before.server._tag === "Backup" ? before.server.version : undefined
    if (cached._tag === "Cached" && cached.opensLiveVersion !== undefined && cached.opensLiveVersion !== current) {
      const restored = yield* step(
        "RestoreOlderVersion",
        Effect.map(deps.restore.restoreKeyBackup(), (result) => `version ${cached.opensLiveVersion}: ${result.imported} of ${result.total} keys`),
      )
      steps.push(restored)
      // Keys we could not take out of the old version must not be deleted with it.
      if (restored.outcome === "Failed") return [...steps, skipped("ResetBackup", "the older version could not be restored first")]
    }
    steps.push(yield* step("ResetBackup", Effect.map(deps.engine.resetKeyBackup(), (check) => `new version ${check.backupInfo.version ?? ""}`)))
    return steps
  })

/** A new default 4S key, the backup key stored under it, and the cross-signing keys the app gave. */
const setUpSecretStorage = (deps: RepairDeps, setup: NewSecretStorage) =>
  Effect.as(
    deps.recovery.bootstrapSecretStorage({
      // The step reports a failure by its tag only: the app's own error is not carried into the result.
      createSecretStorageKey: () => Effect.mapError(setup.createSecretStorageKey(), () => ({ _tag: "CreateSecretStorageKeyFailed" as const })),
      ...(setup.crossSigningKeys === undefined ? {} : { crossSigningKeys: setup.crossSigningKeys }),
    }),
    setup.crossSigningKeys === undefined ? "with the backup key" : "with the backup key and the cross-signing keys",
  )

/** After a new version: sign it too when the engine could not (the master key is in 4S, not held). */
const signNewVersion = (deps: RepairDeps, options: RepairOptions, steps: ReadonlyArray<RepairStep>) =>
  Effect.gen(function* () {
    if (!steps.some((s) => s.action === "ResetBackup" && s.outcome === "Done")) return []
    const drifts = (yield* diagnoseKeyStorage(deps, options)).drifts
    return drifts.some((drift) => drift.action === "SignBackup") ? [yield* signBackup(deps)] : []
  })

/** The server made a new version instead of updating ours (older Palpo): its keys follow, the old version stays. */
const carrySuperseded = (deps: RepairDeps, superseded: BackupVersionSuperseded): Effect.Effect<RepairStep> =>
  step(
    "RestoreOlderVersion",
    Effect.map(carryIntoNewVersion(deps, superseded), (carried) =>
      Option.match(carried, {
        onNone: () => `version ${superseded.version} left as it is: this device's key does not open version ${superseded.currentVersion}`,
        onSome: ({ restored }) => `version ${superseded.version}: ${restored} keys, to be uploaded to version ${superseded.currentVersion}`,
      }),
    ),
  )

/** The steps for one action of the diagnosis. */
const act = (deps: RepairDeps, options: RepairOptions, before: KeyStorageDiagnosis, action: RepairAction): Effect.Effect<ReadonlyArray<RepairStep>> => {
  switch (action) {
    case "CacheKeyFromSecretStorage":
      return Effect.map(step(action, Effect.map(deps.recovery.loadSessionBackupPrivateKeyFromSecretStorage(), (v) => `version ${v}`)), (s) => [s])
    case "StoreKeyInSecretStorage":
      return Effect.map(step(action, storeCachedKey(deps)), (s) => [s])
    case "SignBackup":
      return Effect.flatMap(signBackup(deps), (s) => (s.superseded === undefined ? Effect.succeed([s]) : Effect.map(carrySuperseded(deps, s.superseded), (c) => [s, c])))
    case "ResumeUploads":
      return Effect.map(step(action, Effect.map(deps.engine.checkKeyBackupAndEnable(true), () => undefined)), (s) => [s])
    case "ResetBackup":
      return options.allowReset === true
        ? resetCarryingKeys(deps, before)
        : Effect.succeed([skipped(action, "making a new version deletes the others: pass allowReset")])
    case "UploadPendingKeys":
      return Effect.succeed([])
    case "TurnOnKeyStorage":
      return Effect.succeed([skipped(action, "the account chose no key storage: pass turnOnKeyStorage")])
    case "EnterRecoveryKey":
      return Effect.succeed([skipped(action, "Secret Storage is locked or lacks the key: give the recovery key")])
    case "SetUpSecretStorage":
      return options.setUpSecretStorage === undefined
        ? Effect.succeed([skipped(action, "set up Secret Storage (bootstrapSecretStorage)")])
        : Effect.map(step(action, setUpSecretStorage(deps, options.setUpSecretStorage)), (s) => [s])
  }
}

/** Lets uploads catch up with the active version; says how many keys went up. */
const uploadPending = (deps: RepairDeps, options: RepairOptions) =>
  Effect.gen(function* () {
    yield* deps.engine.checkKeyBackupAndEnable(true)
    const active = yield* deps.engine.getActiveSessionBackupVersion()
    if (Option.isNone(active)) return Option.none<RepairStep>()
    const pending = yield* Effect.either(deps.store.countPending(active.value))
    const waited = yield* step(
      "UploadPendingKeys",
      Effect.as(deps.engine.waitForBackupSteadyState(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }), `version ${active.value}`),
    )
    const count = Either.isRight(pending) ? `${pending.right} keys to ` : ""
    return Option.some(waited.outcome === "Done" ? { ...waited, detail: `${count}${waited.detail ?? ""}` } : waited)
  })

/** The repair: open 4S if given a key, diagnose, act on each distinct action in order, upload, diagnose again. */
export const repairKeyStorage = (deps: RepairDeps, options: RepairOptions = {}): Effect.Effect<RepairResult, DiagnoseError> =>
  Effect.gen(function* () {
    const steps: Array<RepairStep> = []
    const input = options.secretStorageKey
    if (input !== undefined) steps.push(yield* step("OpenSecretStorage", Effect.map(deps.recovery.openSecretStorage(input), ({ keyId }) => `key ${keyId}`)))
    const before = yield* diagnoseKeyStorage(deps, options)
    const turnOn = before.preference._tag === "Off" && options.turnOnKeyStorage === true
    if (turnOn) steps.push(yield* step("TurnOnKeyStorage", Effect.as(writeKeyStoragePreference(deps.api, true), "m.key_backup enabled")))
    // Once key storage is on, the drifts it hid (no backup, stopped uploads, 4S) are read again.
    const current = turnOn ? yield* diagnoseKeyStorage(deps, options) : before
    const actions = [...new Set(current.drifts.map((drift) => drift.action))]
    for (const action of actions) steps.push(...(yield* act(deps, options, current, action)))
    steps.push(...(yield* signNewVersion(deps, options, steps)))
    if (current.preference._tag !== "Off") Option.map(yield* uploadPending(deps, options), (s) => steps.push(s))
    return { before, steps, after: yield* diagnoseKeyStorage(deps, options) }
  }).pipe(Effect.withSpan("KeyStorage.repairKeyStorage"))
