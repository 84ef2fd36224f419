// The BackupStore conformance suite imports vitest, so it has its own entry: "@matrix-backup/testkit/BackupStoreSuite".
export {}
