/**
 * `checkKeyBackupAndEnable` (PROTOCOL.md §8.1): one check at a time, shared by concurrent callers. No backup (404)
 * → None and uploads off; any other failure → None and nothing changes; a backup we neither trust nor hold the key
 * of, or an account that chose no key storage (MSC4287) → uploads off; otherwise enable or switch to it. Switching never rewrites rows: pending is per version.
 */
import { Effect, Either, Fiber, Option, Ref, SynchronizedRef } from "effect"
import { isUsablePublicKey } from "../crypto/MegolmBackupV1.js"
import type { KeyBackupInfo } from "../schema/BackupInfo.js"
import type { BackupVersion } from "../schema/Ids.js"
import { isOff, readKeyStoragePreference } from "../key-storage/KeyStoragePreference.js"
import { BackupStore } from "../services/BackupStore.js"
import { HomeserverApi } from "../services/HomeserverApi.js"
import { BackupTrust } from "../trust/BackupTrust.js"
import type { Activation } from "./Activation.js"
import { BackupState } from "./BackupState.js"
import { matrixErrcode } from "./EngineError.js"
import { heldLiveVersion } from "./HeldVersion.js"
import type { KeyBackupCheck } from "./KeyBackupEngine.js"

/** The last finished check: what the server said (None: no backup, or unknown after a failure). */
export interface LastCheck {
  readonly result: Option.Option<KeyBackupCheck>
}

/** Builds the checker over the activation holder. */
export const makeChecker = (activation: Activation) =>
  Effect.gen(function* () {
    const api = yield* HomeserverApi
    const store = yield* BackupStore
    const trust = yield* BackupTrust
    const scope = yield* Effect.scope
    const last = yield* Ref.make(Option.none<LastCheck>())
    const inflight = yield* SynchronizedRef.make(Option.none<Fiber.RuntimeFiber<Option.Option<KeyBackupCheck>>>())
    // Checks and resets exclude each other, so a check never enables a version a reset is deleting.
    const exclusive = (yield* Effect.makeSemaphore(1)).withPermits(1)

    /** MSC4287: the account chose no key storage. Unreadable counts as not chosen, so a flaky read never stops uploads. */
    const accountTurnedKeyStorageOff = readKeyStoragePreference(api).pipe(
      Effect.map(isOff),
      Effect.catchAll((error) => Effect.as(Effect.logWarning(`Could not read the key storage preference: ${error._tag}`), false)),
    )

    /** Acts on a fetched backup: enable/switch when trusted or matching our key, otherwise disable. */
    const apply = (info: KeyBackupInfo & { readonly version: BackupVersion }) =>
      Effect.gen(function* () {
        const result = yield* trust.isKeyBackupTrusted(info)
        const check: KeyBackupCheck = {
          backupInfo: info,
          trustInfo: { trusted: result.trusted, matchesDecryptionKey: result.matchesDecryptionKey },
        }
        if (result.details.unsupportedAlgorithm || info.auth_data._tag !== "Curve25519") {
          yield* activation.disable("UnsupportedAlgorithm", info.version)
        } else if (!result.trusted && !result.matchesDecryptionKey) {
          yield* activation.disable("NotTrusted", info.version)
        } else if (!isUsablePublicKey(info.auth_data.public_key)) {
          yield* activation.disable("UnusablePublicKey", info.version)
        } else if (yield* accountTurnedKeyStorageOff) {
          yield* activation.disable("KeyStorageOff", info.version)
        } else {
          yield* activation.enable(info, info.auth_data.public_key)
        }
        return check
      })

    /**
     * "Latest" is 404 but the version this device holds a key for is live (Dendrite counts a deleted newer version as
     * latest): report that backup, with uploads off, since the server accepts uploads only to its latest.
     */
    const hiddenHeldVersion = Effect.gen(function* () {
      const held = yield* Effect.orElseSucceed(heldLiveVersion(api, store), () => Option.none())
      if (Option.isNone(held)) return Option.none<KeyBackupCheck>()
      const info = { ...held.value.info, version: held.value.version }
      const result = yield* trust.isKeyBackupTrusted(info)
      const check: KeyBackupCheck = { backupInfo: info, trustInfo: { trusted: result.trusted, matchesDecryptionKey: result.matchesDecryptionKey } }
      yield* activation.disable("NotCurrent", info.version)
      yield* Ref.set(last, Option.some({ result: Option.some(check) }))
      return Option.some(check)
    })

    const doCheck: Effect.Effect<Option.Option<KeyBackupCheck>> = Effect.gen(function* () {
      yield* activation.setStateIfInactive(BackupState.Checking())
      const fetched = yield* Effect.either(api.getBackupVersion())
      if (Either.isLeft(fetched)) {
        if (fetched.left._tag === "BackupNotFound") {
          const hidden = yield* hiddenHeldVersion
          if (Option.isSome(hidden)) return hidden
          yield* activation.disable("NoBackup")
        } else {
          const errcode = matrixErrcode(fetched.left)
          yield* Effect.logWarning(`Key backup check failed: ${fetched.left._tag}`)
          yield* activation.setStateIfInactive(BackupState.Error({ reason: "CheckFailed", ...(errcode === undefined ? {} : { errcode }) }))
        }
        yield* Ref.set(last, Option.some({ result: Option.none() }))
        return Option.none()
      }
      const info = fetched.right
      const version = info.version
      if (version === undefined) {
        yield* activation.setStateIfInactive(BackupState.Error({ reason: "CheckFailed" }))
        yield* Ref.set(last, Option.some({ result: Option.none() }))
        return Option.none()
      }
      const check = yield* apply({ ...info, version })
      yield* Ref.set(last, Option.some({ result: Option.some(check) }))
      return Option.some(check)
    }).pipe(exclusive, Effect.withSpan("KeyBackupEngine.checkKeyBackupAndEnable"))

    /** Joins the running check or starts one (in the engine's scope, so a caller's interruption does not stop it). */
    const shared = Effect.flatten(
      SynchronizedRef.modifyEffect(inflight, (current) =>
        Option.match(current, {
          onSome: (fiber) => Effect.succeed([Fiber.join(fiber), current] as const),
          onNone: () =>
            Effect.map(
              Effect.forkIn(Effect.ensuring(doCheck, SynchronizedRef.set(inflight, Option.none())), scope),
              (fiber) => [Fiber.join(fiber), Option.some(fiber)] as const,
            ),
        }),
      ),
    )

    const check = (force = true): Effect.Effect<Option.Option<KeyBackupCheck>> =>
      force ? shared : Effect.flatMap(Ref.get(last), Option.match({ onNone: () => shared, onSome: (l) => Effect.succeed(l.result) }))

    return {
      check,
      /** Runs `effect` with no check running meanwhile (reset). */
      exclusive,
      /** True while a check is running. */
      isChecking: Effect.map(SynchronizedRef.get(inflight), Option.isSome),
      /** Records a result obtained without a GET (reset builds its info locally). */
      remember: (result: Option.Option<KeyBackupCheck>) => Ref.set(last, Option.some({ result })),
      /** Forgets the cached result when it was for `version` (after a delete). */
      forget: (version: string) =>
        Ref.update(last, (l) =>
          Option.isSome(l) && Option.isSome(l.value.result) && l.value.result.value.backupInfo.version === version ? Option.none() : l,
        ),
    }
  })

/** The checker's shape. */
export type Checker = Effect.Effect.Success<ReturnType<typeof makeChecker>>
