// The page of the browser test, bundled for Chromium: a real matrix-js-sdk client (Rust crypto in wasm, in memory)
// restores through the package's browser entry, which decrypts with Web Crypto on Web Workers.
import { restoreKeyBackup } from "@matrix-backup/matrix-js-sdk"
import * as sdk from "matrix-js-sdk"

/** What the test passes in: a logged-in device, the backup key and how many Web Workers decrypt. */
export interface PageInput {
  readonly url: string
  readonly userId: string
  readonly deviceId: string
  readonly accessToken: string
  readonly privateKey: ReadonlyArray<number>
  readonly version: string
  readonly workers: number
  readonly offThread: boolean
}

const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, getChild: () => silent }

/** Restores into a fresh client, then reads back what its crypto holds. */
const restoreInPage = async (input: PageInput) => {
  const client = sdk.createClient({ baseUrl: input.url, accessToken: input.accessToken, userId: input.userId, deviceId: input.deviceId, logger: silent })
  await client.initRustCrypto({ useIndexedDB: false })
  const crypto = client.getCrypto()
  if (crypto === undefined) throw new Error("no crypto")
  await crypto.storeSessionBackupPrivateKey(Uint8Array.from(input.privateKey), input.version)
  const stages: Array<string> = []
  const result = await restoreKeyBackup(client, { decryptionThreads: input.workers, offThread: input.offThread, progressCallback: (p) => stages.push(p.stage) })
  const exported = (await crypto.exportRoomKeys()).map((k) => ({ room_id: k.room_id, session_id: k.session_id, session_key: k.session_key }))
  client.stopClient()
  return { total: result.total, imported: result.imported, failures: result.failures, stages: [...new Set(stages)], exported }
}

Reflect.set(globalThis, "restoreInPage", restoreInPage)
Reflect.set(globalThis, "pageReady", true)
