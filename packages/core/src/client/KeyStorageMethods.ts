/**
 * The facade's key-storage methods: `diagnoseKeyStorage` and `repairKeyStorage` over the KeyStorage service, with
 * plain values in and out (a recovery key or passphrase as a string, wrapped as a secret before it goes further).
 */
import { Effect, Redacted } from "effect"
import { KeyStorage, type KeyStorageDiagnosis, type RepairResult, type SignStep } from "../key-storage/KeyStorage.js"
import type { CrossSigningKeys } from "../secret-storage/CrossSigningSecrets.js"
import type { SecretStorageKeyInput } from "../secret-storage/OpenSecretStorage.js"
import type { Call } from "./ClientLayer.js"
import { callbackFailed, fromJsKey, type GeneratedSecretStorageKeyJs } from "./RecoveryMethods.js"

export type { Drift, DriftKind, KeyStorageDiagnosis, RepairAction, RepairResult, RepairStep, SignRefusal, SignStep } from "../key-storage/KeyStorage.js"

/** What opens Secret Storage for a repair: the recovery key, the passphrase, either, or the raw key. */
export type SecretStorageKeyJs =
  | { readonly recoveryKey: string }
  | { readonly passphrase: string }
  | { readonly recoveryKeyOrPassphrase: string }
  | { readonly key: Uint8Array }

/** Options of `repairKeyStorage`. */
export interface RepairKeyStorageOpts {
  /** Opens Secret Storage first, so the backup key can be read from it or written to it. */
  readonly secretStorageKey?: SecretStorageKeyJs
  /** May make a new backup version (the others, and keys only they hold, are deleted). */
  readonly allowReset?: boolean
  /** Turns key storage back on when the account chose none (MSC4287 `m.key_backup`). */
  readonly turnOnKeyStorage?: boolean
  /**
   * Sets up Secret Storage when the account has none usable (e.g. after another client turned key storage off): a new
   * default key from `createSecretStorageKey`, holding the backup key and the cross-signing keys given.
   */
  readonly setUpSecretStorage?: {
    readonly createSecretStorageKey: () => Promise<GeneratedSecretStorageKeyJs>
    readonly crossSigningKeys?: CrossSigningKeys
  }
  /** How long to wait for pending keys to upload. */
  readonly timeoutMs?: number
}

/** The methods this module adds to the client. */
export interface KeyStorageMethods {
  /** Everything in key storage that is out of sync, each drift with the action that fixes it. Reads only. */
  readonly diagnoseKeyStorage: (opts?: { readonly prompt?: boolean }) => Promise<KeyStorageDiagnosis>
  /** Fixes what can be fixed without losing a key, in order, each step reported; idempotent. */
  readonly repairKeyStorage: (opts?: RepairKeyStorageOpts) => Promise<RepairResult>
  /**
   * Only the repair's sign step: signs the current backup with the master key (`crossSigningMasterKey`, or from an open
   * Secret Storage) when this device's key opens it; otherwise says why in `refusal`, signing nothing.
   */
  readonly signBackup: () => Promise<SignStep>
}

const toInput = (key: SecretStorageKeyJs): SecretStorageKeyInput =>
  "recoveryKey" in key
    ? { recoveryKey: Redacted.make(key.recoveryKey) }
    : "passphrase" in key
      ? { passphrase: Redacted.make(key.passphrase) }
      : "recoveryKeyOrPassphrase" in key
        ? { recoveryKeyOrPassphrase: Redacted.make(key.recoveryKeyOrPassphrase) }
        : { key: Redacted.make(Uint8Array.from(key.key)) }

const setUpSecretStorage = (setup: NonNullable<RepairKeyStorageOpts["setUpSecretStorage"]>) => ({
  createSecretStorageKey: () => Effect.map(Effect.tryPromise({ try: () => setup.createSecretStorageKey(), catch: callbackFailed }), fromJsKey),
  ...(setup.crossSigningKeys === undefined ? {} : { crossSigningKeys: setup.crossSigningKeys }),
})

/** Builds the methods over the client's `call`. */
export const makeKeyStorageMethods = (call: Call): KeyStorageMethods => ({
  diagnoseKeyStorage: (opts = {}) => call(Effect.flatMap(KeyStorage, (k) => k.diagnoseKeyStorage(opts.prompt === undefined ? {} : { prompt: opts.prompt }))),
  repairKeyStorage: (opts = {}) =>
    call(
      Effect.flatMap(KeyStorage, (k) =>
        k.repairKeyStorage({
          ...(opts.secretStorageKey === undefined ? {} : { secretStorageKey: toInput(opts.secretStorageKey) }),
          ...(opts.allowReset === undefined ? {} : { allowReset: opts.allowReset }),
          ...(opts.turnOnKeyStorage === undefined ? {} : { turnOnKeyStorage: opts.turnOnKeyStorage }),
          ...(opts.setUpSecretStorage === undefined ? {} : { setUpSecretStorage: setUpSecretStorage(opts.setUpSecretStorage) }),
          ...(opts.timeoutMs === undefined ? {} : { timeoutMs: opts.timeoutMs }),
        }),
      ),
    ),
  signBackup: () => call(Effect.flatMap(KeyStorage, (k) => k.signBackup())),
})
