/**
 * The facade's secret-storage and backup-key methods (matrix-js-sdk names and shapes): the Recovery service and
 * the low-level `secretStorage` accessor. Secrets cross into Promise land only as copies the caller owns.
 */
import { type Context, Effect, Either, Option, Redacted, Schema } from "effect"
import type { CrossSigningKeys } from "../secret-storage/CrossSigningSecrets.js"
import type { GeneratedSecretStorageKey } from "../secret-storage/GeneratedKey.js"
import { Recovery, type RecoveryError } from "../secret-storage/Recovery.js"
import { SecretStorage, type SecretStorageError } from "../secret-storage/SecretStorage.js"
import type { Pbkdf2Passphrase } from "../schema/SecretStorage.js"
import { SecretStorageKeyDescription } from "../schema/SecretStorage.js"
import { summarizeParseError } from "../schema/ParseErrorSummary.js"
import { KeyBackupClientError } from "./ClientError.js"
import type { ClientServices } from "./ClientLayer.js"

/** js-sdk's `GeneratedSecretStorageKey` (plain values: show `encodedPrivateKey` to the user once). */
export interface GeneratedSecretStorageKeyJs {
  readonly keyInfo?: { readonly passphrase?: Pbkdf2Passphrase; readonly name?: string }
  readonly privateKey: Uint8Array
  readonly encodedPrivateKey?: string
}

/** js-sdk's `CreateSecretStorageOpts` subset. */
export interface BootstrapSecretStorageOpts {
  /** Makes the new Secret Storage key when one is needed (usually `createRecoveryKeyFromPassphrase`, then shown once). */
  readonly createSecretStorageKey?: () => Promise<GeneratedSecretStorageKeyJs>
  readonly setupNewSecretStorage?: boolean
  readonly setupNewKeyBackup?: boolean
  /** The cross-signing private keys to store in 4S, as js-sdk's `OlmMachine.exportCrossSigningKeys()` gives them. */
  readonly crossSigningKeys?: CrossSigningKeys
}

/** js-sdk's `ServerSideSecretStorage` subset. */
export interface SecretStorageAccess {
  /** The secret `name`, decrypted (undefined: not stored); asks `getSecretStorageKey` for the key when needed. */
  readonly get: (name: string) => Promise<string | undefined>
  /** Encrypts `secret` under the default key (or `keys`) and stores it as account data `name`. */
  readonly store: (name: string, secret: string, keys?: ReadonlyArray<string> | null) => Promise<void>
  /** Whether the key `keyId` (default: the default key) has a description in account data. */
  readonly hasKey: (keyId?: string) => Promise<boolean>
  /** Whether `key` is the key `info` (its account-data description) describes. */
  readonly checkKey: (key: Uint8Array, info: Record<string, unknown>) => Promise<boolean>
  /** The ID of the default Secret Storage key (null: none). */
  readonly getDefaultKeyId: () => Promise<string | null>
}

/** The methods this module adds to the client. */
export interface RecoveryMethods {
  /** Reads the backup key from Secret Storage, checks it against the server's backup and caches it. */
  readonly loadSessionBackupPrivateKeyFromSecretStorage: () => Promise<void>
  /** Caches `key` as the decryption key of backup `version` (checked against the server's backup). */
  readonly storeSessionBackupPrivateKey: (key: Uint8Array, version: string) => Promise<void>
  /** A copy of the cached backup decryption key (null: none). */
  readonly getSessionBackupPrivateKey: () => Promise<Uint8Array | null>
  /** Sets up Secret Storage when needed (or asked), then stores the backup key in it or makes a new backup. */
  readonly bootstrapSecretStorage: (opts?: BootstrapSecretStorageOpts) => Promise<void>
  /** A new Secret Storage key: random, or derived from `passphrase`; `encodedPrivateKey` is its recovery key. */
  readonly createRecoveryKeyFromPassphrase: (passphrase?: string) => Promise<GeneratedSecretStorageKeyJs>
  /** Deletes the backup, blanks the secrets in Secret Storage and records that the account chose no key storage. */
  readonly disableKeyStorage: () => Promise<void>
  /** Whether Secret Storage holds every secret it should under the default key (`getSecretStorageStatus().ready`). */
  readonly isSecretStorageReady: () => Promise<boolean>
  readonly secretStorage: SecretStorageAccess
}

type Call = <A, E>(effect: Effect.Effect<A, E, ClientServices>) => Promise<A>

const toJsKey = (key: GeneratedSecretStorageKey): GeneratedSecretStorageKeyJs => ({
  ...(key.keyInfo === undefined ? {} : { keyInfo: key.keyInfo }),
  privateKey: Uint8Array.from(Redacted.value(key.privateKey)),
  ...(key.encodedPrivateKey === undefined ? {} : { encodedPrivateKey: Redacted.value(key.encodedPrivateKey) }),
})

/** A generated key from the app, as core takes it (copied; wrapped as secrets). */
export const fromJsKey = (key: GeneratedSecretStorageKeyJs): GeneratedSecretStorageKey => ({
  ...(key.keyInfo === undefined ? {} : { keyInfo: key.keyInfo }),
  privateKey: Redacted.make(Uint8Array.from(key.privateKey)),
  ...(key.encodedPrivateKey === undefined ? {} : { encodedPrivateKey: Redacted.make(key.encodedPrivateKey) }),
})

/** The error a failed `createSecretStorageKey` callback becomes. */
export const callbackFailed = () => new KeyBackupClientError("CallbackFailed", "CallbackFailed", "createSecretStorageKey failed")
const decodeDescription = Schema.decodeUnknownEither(SecretStorageKeyDescription)

/** Builds the methods over the client's `call`. */
export const makeRecoveryMethods = (call: Call): RecoveryMethods => {
  const recovery = <A, E>(f: (r: Context.Tag.Service<Recovery>) => Effect.Effect<A, E>) => call(Effect.flatMap(Recovery, f))
  const ssss = <A, E>(f: (s: Context.Tag.Service<SecretStorage>) => Effect.Effect<A, E>) => call(Effect.flatMap(SecretStorage, f))
  return {
    loadSessionBackupPrivateKeyFromSecretStorage: () => recovery((r) => Effect.asVoid(r.loadSessionBackupPrivateKeyFromSecretStorage())),
    storeSessionBackupPrivateKey: (key, version) =>
      recovery<void, KeyBackupClientError | RecoveryError>((r) =>
        version.length === 0
          ? Effect.fail(new KeyBackupClientError("InvalidArgument", "InvalidArgument", "A backup version is required"))
          : r.storeSessionBackupPrivateKey(Redacted.make(Uint8Array.from(key)), version),
      ),
    getSessionBackupPrivateKey: () =>
      recovery((r) => Effect.map(r.getSessionBackupPrivateKey(), (key) => Option.getOrNull(Option.map(key, (k) => Uint8Array.from(Redacted.value(k)))))),
    bootstrapSecretStorage: (opts = {}) =>
      recovery((r) => {
        const create = opts.createSecretStorageKey
        return r.bootstrapSecretStorage<KeyBackupClientError>({
          ...(create === undefined
            ? {}
            : { createSecretStorageKey: () => Effect.map(Effect.tryPromise({ try: () => create(), catch: callbackFailed }), fromJsKey) }),
          ...(opts.setupNewSecretStorage === undefined ? {} : { setupNewSecretStorage: opts.setupNewSecretStorage }),
          ...(opts.setupNewKeyBackup === undefined ? {} : { setupNewKeyBackup: opts.setupNewKeyBackup }),
          ...(opts.crossSigningKeys === undefined ? {} : { crossSigningKeys: opts.crossSigningKeys }),
        })
      }),
    createRecoveryKeyFromPassphrase: (passphrase) =>
      recovery((r) => Effect.map(r.createRecoveryKeyFromPassphrase(passphrase === undefined ? undefined : Redacted.make(passphrase)), toJsKey)),
    disableKeyStorage: () => recovery((r) => r.disableKeyStorage()),
    isSecretStorageReady: () => recovery((r) => r.isSecretStorageReady()),
    secretStorage: {
      get: (name) => ssss((s) => Effect.map(s.get(name), (secret) => Option.getOrUndefined(Option.map(secret, Redacted.value)))),
      store: (name, secret, keys) => ssss((s) => s.store(name, Redacted.make(secret), keys ?? undefined)),
      hasKey: (keyId) => ssss((s) => s.hasKey(keyId)),
      checkKey: (key, info) =>
        ssss<boolean, KeyBackupClientError | SecretStorageError>((s) =>
          Either.match(decodeDescription(info), {
            onLeft: (error) =>
              Effect.fail(new KeyBackupClientError("InvalidKeyDescription", "InvalidKeyDescription", `Not a key description: ${summarizeParseError(error)}`)),
            onRight: (description) => s.checkKey(Redacted.make(Uint8Array.from(key)), description),
          }),
        ),
      getDefaultKeyId: () => ssss((s) => Effect.map(s.getDefaultKeyId(), Option.getOrNull)),
    },
  }
}
