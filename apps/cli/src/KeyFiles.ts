/**
 * Key files: Element's passphrase-encrypted `MEGOLM SESSION DATA` export and the plain JSON array of exported
 * sessions. Writing goes to a 0600 temporary file renamed into place, so a failed export leaves nothing half-written.
 */
import { CryptoBackend, Entropy, KeyExportFile, RoomKey } from "@matrix-backup/core"
import { Effect, Either, Redacted, Schema } from "effect"
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { CliError } from "./CliError.js"

/** The two file formats. */
export type KeyFileFormat = "element" | "json"

const fileError = (message: string) => new CliError({ code: "File", message })

/** A writer for the exported keys; keys are written as they arrive (JSON) or sealed at the end (Element). */
export interface KeyFileWriter {
  readonly write: (keys: ReadonlyArray<RoomKey.RoomKey>) => Effect.Effect<void, CliError>
  readonly close: Effect.Effect<void, CliError>
  readonly abort: Effect.Effect<void>
}

const deriveKeys = (passphrase: Redacted.Redacted<string>, salt: Uint8Array, rounds: number) =>
  Effect.flatMap(CryptoBackend.CryptoBackend, (crypto) =>
    Effect.map(crypto.pbkdf2Sha512(passphrase, salt, rounds, 512), (derived) => KeyExportFile.splitKeyExportKeys(Redacted.value(derived))),
  )

/** Opens `path` for export; Element files need a passphrase. */
export const openWriter = (path: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const entropy = yield* Entropy.Entropy
    const crypto = yield* CryptoBackend.CryptoBackend
    const partial = `${path}.partial`
    const fd = yield* Effect.try({ try: () => openSync(partial, "w", 0o600), catch: () => fileError(`Cannot write ${path}`) })
    const put = (text: string) => Effect.try({ try: () => void writeSync(fd, text), catch: () => fileError(`Cannot write ${path}`) })
    const chunks: Array<string> = []
    let first = true
    const add = (text: string) => (format === "json" ? put(text) : Effect.sync(() => void chunks.push(text)))
    yield* add("[")
    const finishElement = Effect.gen(function* () {
      if (passphrase === undefined) return
      const params = { salt: yield* entropy.randomBytes(16), iv: yield* entropy.randomBytes(16), rounds: KeyExportFile.DEFAULT_KEY_EXPORT_ROUNDS }
      const keys = yield* Effect.provideService(deriveKeys(passphrase, params.salt, params.rounds), CryptoBackend.CryptoBackend, crypto)
      yield* put(KeyExportFile.encryptKeyExportWithKeys(chunks.join(""), params, keys))
      keys.aesKey.fill(0)
      keys.hmacKey.fill(0)
    })
    return {
      write: (keys) =>
        Effect.forEach(keys, (key) => {
          const text = `${first ? "\n" : ",\n"}${JSON.stringify(RoomKey.toExported(key))}`
          first = false
          return add(text)
        }, { discard: true }),
      close: Effect.gen(function* () {
        yield* add("\n]\n")
        if (format === "element") yield* finishElement
        yield* Effect.try({
          try: () => {
            closeSync(fd)
            renameSync(partial, path)
          },
          catch: () => fileError(`Cannot write ${path}`),
        })
      }),
      abort: Effect.sync(() => {
        try {
          closeSync(fd)
        } catch {
          // Already closed.
        }
        rmSync(partial, { force: true })
      }),
    } satisfies KeyFileWriter
  })

const decodeKeys = Schema.decodeUnknownEither(Schema.Array(Schema.Unknown))
const decodeKey = Schema.decodeUnknownEither(RoomKey.ExportedRoomKey)

/** The JSON text of a key file, decrypting an Element export with its passphrase. */
const readText = (path: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const text = yield* Effect.try({ try: () => readFileSync(path, "utf8"), catch: () => fileError(`Cannot read ${path}`) })
    if (format === "json") return text
    if (passphrase === undefined) {
      return yield* new CliError({ code: "Usage", message: "An Element key file needs --export-passphrase" })
    }
    const body = KeyExportFile.parseKeyExportFile(text)
    if (Either.isLeft(body)) return yield* fileError(`${path} is not an Element key export (${body.left.detail ?? body.left.reason})`)
    const keys = yield* deriveKeys(passphrase, body.right.salt, body.right.rounds)
    const plain = KeyExportFile.decryptKeyExportWithKeys(body.right, keys)
    keys.aesKey.fill(0)
    keys.hmacKey.fill(0)
    if (Either.isLeft(plain)) {
      return yield* plain.left.reason === "BadMac"
        ? new CliError({ code: "WrongPassphrase", message: "The export passphrase does not open this key file" })
        : fileError(`${path} could not be decrypted (${plain.left.reason})`)
    }
    return plain.right
  })

/** Reads a key file into room keys; entries that are not valid exported sessions are counted, not fatal. */
export const readKeyFile = (path: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const text = yield* readText(path, format, passphrase)
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      // The parser's message quotes the input, which holds session keys.
      return yield* fileError(`${path} is not a JSON array of exported keys`)
    }
    const entries = decodeKeys(parsed)
    if (Either.isLeft(entries)) return yield* fileError(`${path} is not a JSON array of exported keys`)
    const keys: Array<RoomKey.RoomKey> = []
    let invalid = 0
    for (const entry of entries.right) {
      const key = decodeKey(entry)
      if (Either.isRight(key)) keys.push(RoomKey.fromExported(key.right, { source: "file", imported: true }))
      else invalid++
    }
    return { keys, invalid }
  })
