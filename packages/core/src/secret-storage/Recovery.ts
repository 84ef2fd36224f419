/**
 * Recovery: the backup key's whole life in Secret Storage, as matrix-js-sdk's CryptoApi exposes it (bootstrap,
 * recovery keys and passphrases, loading/storing the backup key, status, turning it all off), plus one recovery state
 * with a reason for every "not ready", as a value and a stream (PROTOCOL.md §5, §6, §8.5).
 */
import { Context, Effect, Layer, Option, type Redacted, Ref, Stream, SubscriptionRef } from "effect"
import type { EngineError } from "../backup/EngineError.js"
import { KeyBackupEngine } from "../backup/KeyBackupEngine.js"
import type { RecoveryKeyError } from "../crypto/RecoveryKey.js"
import { BackupEvents, CryptoEvent } from "../services/BackupEvents.js"
import { BackupStore } from "../services/BackupStore.js"
import { CryptoBackend } from "../services/CryptoBackend.js"
import { Entropy } from "../services/Entropy.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import { SecretStorageCallbacks } from "../services/SecretStorageCallbacks.js"
import * as Ops from "./BackupKeyOps.js"
import * as Setup from "./Bootstrap.js"
import { openSecretStorage, type SecretStorageKeyInput } from "./OpenSecretStorage.js"
import { createRecoveryKeyFromPassphrase, type GeneratedSecretStorageKey } from "./GeneratedKey.js"
import type { Deps, RecoveryOptions } from "./RecoveryDeps.js"
import type { DecryptionKeyDoesNotMatch, RecoveryError } from "./RecoveryError.js"
import { type BackupKeyRead, readSessionBackupPrivateKey, type TypedSecret } from "./ReadBackupKey.js"
import { RecoveryState, recoveryStateOf } from "./RecoveryState.js"
import { gatherFacts, getSecretStorageStatus, type SecretStorageStatus } from "./RecoveryStatus.js"
import { type Failure, SecretStorage } from "./SecretStorage.js"
import type { SecretStorageError } from "./SecretStorageError.js"

export type { BootstrapOptions } from "./Bootstrap.js"
export type { BackupKeyRead, TypedSecret } from "./ReadBackupKey.js"
export type { SecretStorageKeyInput } from "./OpenSecretStorage.js"
export type { GeneratedSecretStorageKey } from "./GeneratedKey.js"
export type { RecoveryOptions } from "./RecoveryDeps.js"
export { DecryptionKeyDoesNotMatch, RecoveryError } from "./RecoveryError.js"
export { type NotReadyReason, RecoveryState } from "./RecoveryState.js"
export type { SecretStorageStatus } from "./RecoveryStatus.js"

/** The service. */
export class Recovery extends Context.Tag("@matrix-backup/core/Recovery")<
  Recovery,
  {
    /** A new 4S key: random, or from `passphrase` (PBKDF2-SHA-512, random 32-char salt, 500,000 iterations by default). */
    readonly createRecoveryKeyFromPassphrase: (passphrase?: Redacted.Redacted<string>) => Effect.Effect<GeneratedSecretStorageKey>
    /** Sets up 4S when needed (or asked), then stores the backup key in it or makes a new backup (`setupNewKeyBackup`). */
    readonly bootstrapSecretStorage: <E = never>(
      options?: Setup.BootstrapOptions<E>,
    ) => Effect.Effect<void, Failure | RecoveryError | EngineError | E>
    /**
     * Reads the current backup's key with a recovery key or passphrase (from 4S, or the input as the backup key itself:
     * older clients' recovery keys, legacy backup passphrases), checked against the backup; keeps nothing locally.
     */
    readonly readSessionBackupPrivateKey: (
      input: TypedSecret,
    ) => Effect.Effect<BackupKeyRead, Failure | RecoveryError | DecryptionKeyDoesNotMatch | RecoveryKeyError>
    /** Loads `m.megolm_backup.v1` from 4S, checks it against the server's backup, stores it; returns the version. */
    readonly loadSessionBackupPrivateKeyFromSecretStorage: () => Effect.Effect<string, Failure | RecoveryError | DecryptionKeyDoesNotMatch>
    /** Stores a backup key for `version` locally (emits `KeyBackupDecryptionKeyCached`; the engine re-checks). */
    readonly storeSessionBackupPrivateKey: (key: Redacted.Redacted<Uint8Array>, version: string) => Effect.Effect<void, RecoveryError>
    readonly getSessionBackupPrivateKey: () => Effect.Effect<Option.Option<Redacted.Redacted<Uint8Array>>, RecoveryError>
    readonly isSecretStorageReady: () => Effect.Effect<boolean, Failure>
    readonly getSecretStorageStatus: () => Effect.Effect<SecretStorageStatus, Failure>
    /** Deletes the current backup, blanks 4S with `{}`, records backup as off, forgets the local keys. */
    readonly disableKeyStorage: () => Effect.Effect<void, Failure | RecoveryError | EngineError>
    /**
     * Opens 4S for this session with a recovery key, a passphrase, either, or a raw key (validated, then checked against
     * the default key, or another key the backup key is stored under: `isDefault` says which).
     */
    readonly openSecretStorage: (
      input: SecretStorageKeyInput,
    ) => Effect.Effect<{ readonly keyId: string; readonly isDefault: boolean }, RecoveryKeyError | SecretStorageError | HomeserverApiError>
    /** The recovery state, computed now (a failure to read is the `Error` state). */
    readonly recoveryState: Effect.Effect<RecoveryState>
    /** The current recovery state, then every change. */
    readonly recoveryStateChanges: Stream.Stream<RecoveryState>
  }
>() {}

/** The service shape. */
export type Service = Context.Tag.Service<Recovery>

/** Builds the service; recomputes the state after its own operations and on the engine's backup events. */
export const make = (options: RecoveryOptions = {}) =>
  Effect.gen(function* () {
    const deps: Deps = {
      secretStorage: yield* SecretStorage,
      engine: yield* KeyBackupEngine,
      store: yield* BackupStore,
      api: yield* HomeserverApi,
      events: yield* BackupEvents,
      backend: yield* CryptoBackend,
      entropy: yield* Entropy,
      callbacks: yield* SecretStorageCallbacks,
      options,
      knownMismatch: yield* Ref.make(Option.none<string>()),
    }
    const state = yield* SubscriptionRef.make<RecoveryState>(RecoveryState.Unknown())
    // One refresh at a time, so a slow earlier one never overwrites a newer state.
    const lock = yield* Effect.makeSemaphore(1)
    const refresh = gatherFacts(deps).pipe(
      Effect.map(recoveryStateOf),
      Effect.catchAll((error) => Effect.succeed(RecoveryState.Error({ cause: "reason" in error ? `${error._tag}:${error.reason}` : error._tag }))),
      Effect.tap((next) => SubscriptionRef.set(state, next)),
      lock.withPermits(1),
    )
    /** Runs an operation, then recomputes the state whether it succeeded or not. */
    const thenRefresh = <A, E>(effect: Effect.Effect<A, E>) => Effect.ensuring(effect, refresh)

    yield* deps.events.events.pipe(
      Stream.filter((event) => event.name === CryptoEvent.KeyBackupStatus || event.name === CryptoEvent.KeyBackupDecryptionKeyCached),
      Stream.runForEach(() => refresh),
      Effect.forkScoped,
    )

    return {
      createRecoveryKeyFromPassphrase: (passphrase) =>
        createRecoveryKeyFromPassphrase(deps.entropy, deps.backend, passphrase, {
          ...(options.passphraseIterations === undefined ? {} : { iterations: options.passphraseIterations }),
        }),
      bootstrapSecretStorage: (opts = {}) => thenRefresh(Setup.bootstrapSecretStorage(deps, opts)),
      readSessionBackupPrivateKey: (input) => readSessionBackupPrivateKey(deps, input),
      loadSessionBackupPrivateKeyFromSecretStorage: () => thenRefresh(Ops.loadSessionBackupPrivateKeyFromSecretStorage(deps)),
      storeSessionBackupPrivateKey: (key, version) => thenRefresh(Ops.storeSessionBackupPrivateKey(deps, key, version)),
      getSessionBackupPrivateKey: () => Ops.getSessionBackupPrivateKey(deps),
      isSecretStorageReady: () => Effect.map(getSecretStorageStatus(deps), (status) => status.ready),
      getSecretStorageStatus: () => getSecretStorageStatus(deps),
      disableKeyStorage: () => thenRefresh(Setup.disableKeyStorage(deps)),
      // A failed open changes nothing, so only success recomputes (and a malformed recovery key makes no request).
      openSecretStorage: (input) => Effect.tap(openSecretStorage(deps, input), () => refresh),
      recoveryState: refresh,
      recoveryStateChanges: Stream.unwrap(
        Effect.as(Effect.whenEffect(refresh, Effect.map(SubscriptionRef.get(state), RecoveryState.$is("Unknown"))), state.changes),
      ).pipe(Stream.changes),
    } satisfies Service
  })

/** Everything Recovery is built from. */
export type Requirements =
  | SecretStorage
  | KeyBackupEngine
  | BackupStore
  | HomeserverApi
  | BackupEvents
  | CryptoBackend
  | Entropy
  | SecretStorageCallbacks

/** The service with default options. */
export const layer: Layer.Layer<Recovery, never, Requirements> = Layer.scoped(Recovery, make())

/** The service with options (e.g. fewer PBKDF2 iterations in tests). */
export const layerWith = (options: RecoveryOptions): Layer.Layer<Recovery, never, Requirements> => Layer.scoped(Recovery, make(options))
