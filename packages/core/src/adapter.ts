/**
 * @matrix-backup/core/adapter: what adapters are built from. A store implements `EncodedStore.Encoded` and lifts
 * it with `EncodedStore.makeEncoded`; a homeserver client maps answers with `HomeserverResponse.fromResponse`; a
 * crypto backend or worker pool uses the low-level crypto and `DecryptWorker`. Apps need only the main entry.
 */
export * as EncodedStore from "./store/EncodedStore.js"
export * as MemoryEncoded from "./store/MemoryEncoded.js"
export * as StoreMerge from "./store/Merge.js"
export * as StoreMark from "./store/Mark.js"
export * as RecordCodec from "./store/RecordCodec.js"
export * as HomeserverResponse from "./services/HomeserverResponse.js"
export * as ParseErrorSummary from "./schema/ParseErrorSummary.js"
export * as DecryptWorker from "./restore/DecryptWorker.js"
export * as UploadBatch from "./backup/UploadBatch.js"
export * as Backoff from "./retry/Backoff.js"
export * as Chunks from "./crypto/Chunks.js"
export * as Bytes from "./crypto/Bytes.js"
export * as Curve25519 from "./crypto/Curve25519.js"
export * as AesHmacSha2 from "./crypto/AesHmacSha2.js"
export * as HmacSha256 from "./crypto/HmacSha256.js"
export * as CanonicalJson from "./crypto/CanonicalJson.js"
export * as WebCryptoX25519 from "./crypto/WebCryptoX25519.js"
