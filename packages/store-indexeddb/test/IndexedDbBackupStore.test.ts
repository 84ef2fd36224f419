// The conformance suite and IndexedDB-specific failures under fake-indexeddb in Node.
import "fake-indexeddb/auto"
import { describe, expect, it } from "@effect/vitest"
import { BackupStore } from "@matrix-backup/core"
import { Effect } from "effect"
import { layer } from "../src/IndexedDbBackupStore.js"
import { freshName, runSuite } from "./runSuite.js"
import { runFailures } from "./failures.js"

runSuite("fake-indexeddb")
runFailures()

describe("IndexedDB availability", () => {
  it.effect("no IndexedDB at all gives Open", () =>
    Effect.gen(function* () {
      const options = { name: freshName() }
      const saved = globalThis.indexedDB
      Reflect.deleteProperty(globalThis, "indexedDB")
      const error = yield* Effect.flip(Effect.scoped(Effect.provide(BackupStore.BackupStore, layer(options)))).pipe(
        Effect.ensuring(Effect.sync(() => (globalThis.indexedDB = saved))),
      )
      expect(error.reason).toBe("Open")
    }))
})
