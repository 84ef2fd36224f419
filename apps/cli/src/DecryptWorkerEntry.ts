/** The decryption worker thread of the bundled command: crypto-node's worker entry, bundled beside the command. */
import "@matrix-backup/crypto-node/DecryptWorkerMain"
