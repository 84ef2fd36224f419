// Bundles the browser test's page as an app's bundler would: the package is imported by its name, so the `browser`
// export condition picks the browser entry; the decryption worker and the crypto wasm go next to the page.
import { build } from "esbuild"
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..", "..")

/** The wasm file matrix-sdk-crypto-wasm's browser build fetches from `./pkg/` next to the page's script. */
const cryptoWasm = (): string => {
  const fromJsSdk = createRequire(createRequire(join(root, "package.json")).resolve("matrix-js-sdk"))
  return join(dirname(fromJsSdk.resolve("@matrix-org/matrix-sdk-crypto-wasm")), "pkg", "matrix_sdk_crypto_wasm_bg.wasm")
}

/** Writes the page into `outDir`; returns the modules the page bundle contains (paths relative to the package). */
export const bundlePage = async (outDir: string): Promise<ReadonlyArray<string>> => {
  const result = await build({
    absWorkingDir: root,
    entryPoints: {
      page: "test/browser/page.ts",
      RestoreWorkerBrowser: "@matrix-backup/matrix-js-sdk/RestoreWorkerBrowser",
      DecryptWorkerBrowser: "@matrix-backup/matrix-js-sdk/DecryptWorkerBrowser",
    },
    outdir: outDir,
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    metafile: true,
    logLevel: "error",
  })
  mkdirSync(join(outDir, "pkg"), { recursive: true })
  copyFileSync(cryptoWasm(), join(outDir, "pkg", "matrix_sdk_crypto_wasm_bg.wasm"))
  writeFileSync(join(outDir, "index.html"), `<!doctype html><meta charset="utf-8"><script type="module" src="./page.js"></script>`)
  return Object.keys(result.metafile.inputs)
}
