// Core's CryptoBackends (@noble, Web Crypto, Web Crypto with every symmetric step in crypto.subtle) against the
// shared CryptoBackend conformance suite from testkit.
import { CryptoBackend, Entropy } from "@matrix-backup/core"
import { cryptoBackendSuite } from "@matrix-backup/testkit/CryptoBackendSuite"
import { Effect, Layer } from "effect"

cryptoBackendSuite("noble", CryptoBackend.layerNoble)
cryptoBackendSuite("webcrypto", CryptoBackend.layerWebCrypto)
cryptoBackendSuite("webcrypto, all-subtle symmetric", Layer.effect(CryptoBackend.CryptoBackend, Effect.map(Entropy.Entropy, (e) => CryptoBackend.makeWebCrypto(e, { symmetric: "subtle" }))))
