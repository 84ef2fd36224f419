// Entry of the restore benchmark's node:crypto worker threads: crypto-node's own worker entry, bundled next to the
// other benchmark processes so the pool finds it beside them.
import "@matrix-backup/crypto-node/DecryptWorkerMain"
