/**
 * Key files: Element's passphrase-encrypted `MEGOLM SESSION DATA` export and the plain JSON array of exported
 * sessions. Writing goes to a 0600 temporary file renamed into place, so a failed export leaves nothing half-written.
 */
import { CryptoBackend, Entropy, KeyExportFile, RoomKey } from "@matrix-backup/core"
import { Effect, Either, Redacted, Schema } from "effect"
import { closeSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs"
import { CliError } from "./CliError.js"
import { startKeyExport } from "./KeyExportStream.js"

/** The two file formats. */
export type KeyFileFormat = "element" | "json"

const fileError = (message: string) => new CliError({ code: "File", message })

/** A writer for the exported keys: both formats are written as the keys arrive. */
export interface KeyFileWriter {
  readonly write: (keys: ReadonlyArray<RoomKey.RoomKey>) => Effect.Effect<void, CliError>
  readonly close: Effect.Effect<void, CliError>
  readonly abort: Effect.Effect<void>
}

const deriveKeys = (passphrase: Redacted.Redacted<string>, salt: Uint8Array, rounds: number) =>
  Effect.flatMap(CryptoBackend.CryptoBackend, (crypto) =>
    Effect.map(crypto.pbkdf2Sha512(passphrase, salt, rounds, 512), (derived) => KeyExportFile.splitKeyExportKeys(Redacted.value(derived))),
  )

/** Where the JSON text goes: straight to the file, or through the Element encryption first. */
const sink = (format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined, put: (text: string) => void) =>
  Effect.gen(function* () {
    if (format === "json") return { push: put, end: () => undefined }
    if (passphrase === undefined) return yield* new CliError({ code: "Usage", message: "An Element key file needs --export-passphrase" })
    const entropy = yield* Entropy.Entropy
    const parameters = { salt: yield* entropy.randomBytes(16), iv: yield* entropy.randomBytes(16), rounds: KeyExportFile.DEFAULT_KEY_EXPORT_ROUNDS }
    const keys = yield* deriveKeys(passphrase, parameters.salt, parameters.rounds)
    return startKeyExport(keys, parameters, put)
  })

/** Opens `path` for export; Element files need a passphrase. */
export const openWriter = (path: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const partial = `${path}.partial`
    const fd = yield* Effect.try({ try: () => openSync(partial, "w", 0o600), catch: () => fileError(`Cannot write ${path}`) })
    const output = yield* sink(format, passphrase, (text) => void writeSync(fd, text))
    const guarded = (f: () => void) => Effect.try({ try: f, catch: () => fileError(`Cannot write ${path}`) })
    let first = true
    yield* guarded(() => output.push("["))
    return {
      write: (keys) =>
        guarded(() => {
          for (const key of keys) {
            output.push(`${first ? "\n" : ",\n"}${JSON.stringify(RoomKey.toExported(key))}`)
            first = false
          }
        }),
      close: guarded(() => {
        output.push("\n]\n")
        output.end()
        closeSync(fd)
        renameSync(partial, path)
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

const readProblem = (error: unknown): string => {
  const code = error instanceof Error && "code" in error ? String(error.code) : ""
  if (code === "ENOENT") return "there is no such file"
  if (code === "EACCES" || code === "EPERM") return "permission denied"
  if (code === "EISDIR") return "it is a directory"
  return "it could not be read"
}

/** The file's text, or why it cannot be read. */
export const readKeyFileText = (path: string): Effect.Effect<string, CliError> =>
  Effect.try({ try: () => readFileSync(path, "utf8"), catch: (error) => fileError(`Cannot read ${path}: ${readProblem(error)}`) })

/** Whether the text is an Element key export (its armour header). */
export const isElementFile = (text: string): boolean => text.includes(KeyExportFile.KEY_EXPORT_HEADER)

/** The JSON text of a key file, decrypting an Element export with its passphrase. */
const jsonText = (path: string, text: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    if (format === "json") return text
    if (passphrase === undefined) {
      return yield* new CliError({ code: "Usage", message: "An Element key file needs --export-passphrase (or MATRIX_EXPORT_PASSPHRASE)" })
    }
    const body = KeyExportFile.parseKeyExportFile(text)
    if (Either.isLeft(body)) return yield* fileError(`${path} is not an Element key export; give --format json if it is a JSON array`)
    const keys = yield* deriveKeys(passphrase, body.right.salt, body.right.rounds)
    const plain = KeyExportFile.decryptKeyExportWithKeys(body.right, keys)
    keys.aesKey.fill(0)
    keys.hmacKey.fill(0)
    if (Either.isLeft(plain)) {
      return yield* plain.left.reason === "BadMac"
        ? new CliError({ code: "WrongPassphrase", message: "That passphrase does not open this key file; check it (it is the one chosen when the file was exported)" })
        : fileError(`${path} is damaged and could not be decrypted`)
    }
    return plain.right
  })

/** Reads a key file into room keys; entries that are not valid exported sessions are counted, not fatal. */
export const readKeyFile = (path: string, text: string, format: KeyFileFormat, passphrase: Redacted.Redacted<string> | undefined) =>
  Effect.gen(function* () {
    const json = yield* jsonText(path, text, format, passphrase)
    let parsed: unknown
    try {
      parsed = JSON.parse(json)
    } catch {
      // The parser's message quotes the input, which holds session keys.
      return yield* fileError(`${path} is not a JSON array of exported keys, nor an Element key file`)
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
