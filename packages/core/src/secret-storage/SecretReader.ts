/**
 * Reading 4S account data for `SecretStorage`: the default key, key descriptions and encrypted secrets, each decoded
 * with `{}` read as absent (PROTOCOL.md §6.1), and decrypting a secret entry (§6.4).
 */
import { Effect, Either, Option, ParseResult, Redacted, Schema } from "effect"
import { decryptSecret } from "../crypto/AesHmacSha2.js"
import {
  decodeDefaultKey,
  decodeEncryptedSecret,
  decodeKeyDescription,
  DEFAULT_KEY_EVENT_TYPE,
  type EncryptedSecret,
  keyEventType,
  type SecretStorageKeyDescription,
} from "../schema/SecretStorage.js"
import type { Service as HomeserverApiService } from "../services/HomeserverApi.js"
import type { HomeserverApiError } from "../services/HomeserverError.js"
import type { KeyChoice } from "../services/SecretStorageCallbacks.js"
import { type SecretStorageError, secretStorageError } from "./SecretStorageError.js"

type Read<A> = Effect.Effect<A, SecretStorageError | HomeserverApiError>

/** One key's entry of an encrypted secret, still base64 text. */
const EncryptedEntry = Schema.Struct({ iv: Schema.String, ciphertext: Schema.String, mac: Schema.String })
const isEntry = Schema.is(EncryptedEntry)

/** Schema issues as `path: kind` only: messages can quote the offending values. */
const malformed = (where: { keyId?: string; secretName?: string }) => (error: ParseResult.ParseError) =>
  secretStorageError("Malformed", {
    ...where,
    detail: ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => `${issue.path.join(".") || "(root)"}: ${issue._tag}`).join("; "),
  })

/** The account-data readers `SecretStorage` is built from. */
export const makeReader = (api: HomeserverApiService) => {
  const read = <A>(type: string, decode: (content: unknown) => Either.Either<Option.Option<A>, ParseResult.ParseError>, where: { keyId?: string; secretName?: string }): Read<Option.Option<A>> =>
    Effect.flatMap(api.getAccountData(type), (content) =>
      Option.isNone(content) ? Effect.succeedNone : Either.mapLeft(decode(content.value), malformed(where)),
    )

  const defaultKeyId: Read<Option.Option<string>> = Effect.map(read(DEFAULT_KEY_EVENT_TYPE, decodeDefaultKey, {}), Option.map((event) => event.key))

  const keyDescription = (keyId: string): Read<Option.Option<SecretStorageKeyDescription>> =>
    read(keyEventType(keyId), decodeKeyDescription, { keyId })

  const encryptedSecret = (secretName: string): Read<Option.Option<EncryptedSecret>> =>
    read(secretName, decodeEncryptedSecret, { secretName })

  /** The AES keys a secret can be opened with; fails when there is none (naming an unknown algorithm if one was seen). */
  const usableKeys = (secretName: string, secret: EncryptedSecret): Read<Record<string, SecretStorageKeyDescription>> =>
    Effect.gen(function* () {
      const keys: Record<string, SecretStorageKeyDescription> = {}
      let unknown: { keyId: string; algorithm: string } | undefined
      for (const [keyId, entry] of Object.entries(secret.encrypted)) {
        const info = yield* keyDescription(keyId)
        if (Option.isNone(info)) continue
        if (info.value._tag === "Unknown") unknown ??= { keyId, algorithm: info.value.algorithm }
        else if (isEntry(entry)) keys[keyId] = info.value
      }
      if (Object.keys(keys).length > 0) return keys
      return yield* Effect.fail(
        unknown === undefined
          ? secretStorageError("KeyNotFound", { secretName })
          : secretStorageError("UnknownAlgorithm", { secretName, keyId: unknown.keyId, detail: unknown.algorithm }),
      )
    })

  /** Decrypts the entry of the chosen (already checked) key. */
  const decrypt = (secretName: string, secret: EncryptedSecret, [keyId, key]: KeyChoice): Effect.Effect<Redacted.Redacted<string>, SecretStorageError> => {
    const entry = secret.encrypted[keyId]
    if (!isEntry(entry)) return Effect.fail(secretStorageError("Malformed", { keyId, secretName }))
    return Either.match(decryptSecret(Redacted.value(key), secretName, entry), {
      onLeft: (error) =>
        Effect.fail(
          error.reason === "BadMac"
            ? secretStorageError("BadMac", { keyId, secretName })
            : secretStorageError("Malformed", { keyId, secretName, detail: `${error.reason}${error.field === undefined ? "" : ` ${error.field}`}` }),
        ),
      onRight: (text) => Effect.succeed(Redacted.make(text)),
    })
  }

  /** js-sdk `isStored`: the AES keys with a complete entry, or None. */
  const isStored = (secretName: string): Read<Option.Option<Record<string, SecretStorageKeyDescription>>> =>
    Effect.gen(function* () {
      const secret = yield* encryptedSecret(secretName)
      if (Option.isNone(secret)) return Option.none()
      const keys: Record<string, SecretStorageKeyDescription> = {}
      for (const [keyId, entry] of Object.entries(secret.value.encrypted)) {
        const info = yield* keyDescription(keyId)
        if (Option.isSome(info) && info.value._tag === "AesHmacSha2" && isEntry(entry)) keys[keyId] = info.value
      }
      return Object.keys(keys).length > 0 ? Option.some(keys) : Option.none()
    })

  return { defaultKeyId, keyDescription, encryptedSecret, usableKeys, decrypt, isStored }
}
