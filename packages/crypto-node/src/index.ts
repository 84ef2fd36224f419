/** Node-only companions of @matrix-backup/core: the node:crypto `CryptoBackend` and a worker-thread decryption pool. */
export * as NodeCryptoBackend from "./NodeCryptoBackend.js"
export * as NodeDecryptPool from "./NodeDecryptPool.js"
