// The messages of the decryption worker pool: only well-formed batches and outcomes decode (the pool itself runs on
// real worker threads in the integration tests).
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as DecryptWorker from "../../src/restore/DecryptWorker.js"

describe("DecryptWorker.layerPool", () => {
  it("the batch schemas accept only well-formed sessions and outcomes", () => {
    const outcomes = Schema.decodeUnknownEither(DecryptWorker.DecryptBatch.success)
    const good = [{ _tag: "Plaintext", bytes: new Uint8Array(1) }, { _tag: "Failed", reason: "BadMac" }, { _tag: "Failed", reason: "BadBase64", field: "mac" }]
    expect(Either.isRight(outcomes(good))).toBe(true)
    for (const bad of [{}, [{ _tag: "Plaintext", bytes: "AA" }], [{ _tag: "Failed", reason: "Other" }], [{ _tag: "Failed", reason: "BadMac", field: "iv" }], [null]]) {
      expect(Either.isLeft(outcomes(bad))).toBe(true)
    }
    const request = Schema.decodeUnknownEither(DecryptWorker.DecryptBatch)
    const items = [{ ephemeral: "a", ciphertext: "b", mac: "c" }]
    expect(Either.isRight(request({ _tag: "DecryptBatch", privateKey: new Uint8Array(32), items }))).toBe(true)
    expect(Either.isLeft(request({ _tag: "DecryptBatch", privateKey: new Uint8Array(32), items: [{ ephemeral: "a", ciphertext: 1, mac: "c" }] }))).toBe(true)
  })
})
