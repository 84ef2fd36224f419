// The same suite and failure cases in real Chromium IndexedDB (vitest browser mode).
import { runFailures } from "../failures.js"
import { runSuite } from "../runSuite.js"

runSuite("chromium")
runFailures()
