// The streaming Element key file writer gives byte-for-byte what core's one-shot encryption gives, however the
// plaintext is cut into pieces, and core decrypts it.
import { KeyExportFile } from "@matrix-backup/core"
import { randomBytes } from "node:crypto"
import { describe, expect, it } from "vitest"
import { startKeyExport } from "../src/KeyExportStream.js"

const streamed = (pieces: ReadonlyArray<string>, keys: KeyExportFile.KeyExportKeys, parameters: KeyExportFile.KeyExportParameters) => {
  let out = ""
  const stream = startKeyExport(keys, parameters, (text) => (out += text))
  for (const piece of pieces) stream.push(piece)
  stream.end()
  return out
}

describe("KeyExportStream", () => {
  it.each([0, 1, 15, 16, 17, 71, 72, 73, 1000, 54_321])("matches core's encryption for %i bytes in random pieces", (length) => {
    const plaintext = randomBytes(length).toString("base64").slice(0, length).replace(/o/g, "é")
    const pieces: Array<string> = []
    for (let i = 0; i < plaintext.length; ) {
      const n = 1 + Math.floor(Math.random() * 300)
      pieces.push(plaintext.slice(i, i + n))
      i += n
    }
    const parameters = { salt: randomBytes(16), iv: randomBytes(16), rounds: 10 }
    const keys = KeyExportFile.deriveKeyExportKeysSync("passphrase", parameters.salt, parameters.rounds)
    const text = streamed(pieces, keys, parameters)
    expect(text).toBe(KeyExportFile.encryptKeyExportWithKeys(plaintext, parameters, keys))
    const decrypted = KeyExportFile.decryptKeyExport(text, "passphrase")
    expect(decrypted._tag === "Right" && decrypted.right).toBe(plaintext)
  })

  it("a wrong passphrase is a bad MAC", () => {
    const parameters = { salt: randomBytes(16), iv: randomBytes(16), rounds: 10 }
    const text = streamed(["[]"], KeyExportFile.deriveKeyExportKeysSync("right", parameters.salt, 10), parameters)
    const result = KeyExportFile.decryptKeyExport(text, "wrong")
    expect(result._tag === "Left" && result.left.reason).toBe("BadMac")
  })
})
