/**
 * Writes an Element key export file as the keys arrive, so an export never holds the whole backup in memory:
 * AES-256-CTR and HMAC-SHA-256 (node:crypto) run incrementally and the base64 body is written line by line.
 * Same bytes as core's `KeyExportFile.encryptKeyExportWithKeys`: 0x01 ‖ salt ‖ iv ‖ rounds ‖ ciphertext ‖ HMAC.
 * https://spec.matrix.org/v1.16/client-server-api/#key-exports
 */
import { KeyExportFile } from "@matrix-backup/core"
import { createCipheriv, createHmac } from "node:crypto"

/** Bytes per armoured line: 72 bytes are 96 base64 characters, as Element writes. */
const LINE_BYTES = 72

/** An incremental writer of one key export file; `write` receives the armoured text in pieces. */
export interface KeyExportStream {
  readonly push: (plaintext: string) => void
  readonly end: () => void
}

/** Starts a file with derived keys and parameters; the IV's bit 63 is cleared (64- and 128-bit counters agree). */
export const startKeyExport = (
  keys: KeyExportFile.KeyExportKeys,
  parameters: KeyExportFile.KeyExportParameters,
  write: (text: string) => void,
): KeyExportStream => {
  const iv = Uint8Array.from(parameters.iv)
  iv[8] = (iv[8] ?? 0) & 0x7f
  const cipher = createCipheriv("aes-256-ctr", keys.aesKey, iv)
  const mac = createHmac("sha256", keys.hmacKey)
  let carry: Buffer = Buffer.alloc(0)
  const emit = (bytes: Uint8Array, authenticated: boolean) => {
    if (authenticated) mac.update(bytes)
    carry = Buffer.concat([carry, bytes])
    const whole = carry.length - (carry.length % LINE_BYTES)
    let out = ""
    for (let i = 0; i < whole; i += LINE_BYTES) out += `${carry.subarray(i, i + LINE_BYTES).toString("base64")}\n`
    if (out.length > 0) write(out)
    carry = carry.subarray(whole)
  }
  const prefix = Buffer.alloc(37)
  prefix[0] = KeyExportFile.KEY_EXPORT_VERSION
  prefix.set(parameters.salt, 1)
  prefix.set(iv, 17)
  prefix.writeUInt32BE(parameters.rounds, 33)
  write(`${KeyExportFile.KEY_EXPORT_HEADER}\n`)
  emit(prefix, true)
  return {
    push: (plaintext) => emit(cipher.update(plaintext, "utf8"), true),
    end: () => {
      emit(cipher.final(), true)
      emit(mac.digest(), false)
      write(`${carry.length > 0 ? `${carry.toString("base64")}\n` : ""}${KeyExportFile.KEY_EXPORT_TRAILER}\n`)
      carry = Buffer.alloc(0)
    },
  }
}
