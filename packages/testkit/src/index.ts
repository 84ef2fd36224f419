/** @matrix-backup/testkit: a stateful fake Matrix homeserver, fixtures and adapter conformance suites. */
export { FakeHomeserver, IN_PROCESS_URL, createInProcessHomeserver, startFakeHomeserver } from "./FakeHomeserver.js"
export type { FakeHomeserverOptions, RunningFakeHomeserver } from "./FakeHomeserver.js"
export { MEGOLM_BACKUP_V1, randomBackupPublicKey } from "./Admin.js"
export type { BackupVersionRow, FakeHomeserverAdmin, KeyBackupData, StoredRoomKey } from "./Admin.js"
export { connectAdmin } from "./AdminClient.js"
export type { Fault, FaultMatch } from "./server/Faults.js"
export type { RequestLogEntry } from "./server/Homeserver.js"
export { loginNewDevice, registerUser } from "./fixtures/Users.js"
export type { AccountOptions, TestUser } from "./fixtures/Users.js"
// The BackupStore conformance suite imports vitest (which throws outside a run): import "@matrix-backup/testkit/BackupStoreSuite".
