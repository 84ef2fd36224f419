// The conformance suite against core's in-memory store (the reference every adapter must match).
import { BackupStore } from "@matrix-backup/core"
import { MemoryEncoded } from "@matrix-backup/core/adapter"
import * as BackupStoreSuite from "../src/BackupStoreSuite.js"

BackupStoreSuite.run("memory", () => BackupStore.layerMemory, {
  reopenable: () => {
    const tables = MemoryEncoded.makeMemoryEncoded()
    return (options) => BackupStore.layerEncoded(tables, options)
  },
})
