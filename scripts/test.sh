#!/usr/bin/env bash
# Sets up a fresh machine and runs every check: the package graph, then lint, typecheck, build and all tests of
# every package.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1
export CHROMIUM_PATH="${CHROMIUM_PATH:-$(command -v chromium || true)}"
bash scripts/setup.sh
export PATH="$PWD/.tools/bin:$PATH"
rm -f packages/*/.vitest-report.json apps/*/.vitest-report.json examples/.vitest-report.json
node scripts/check-package-graph.mjs   # turbo hashes only declared inputs: no path into another package, no cycle
CI="${CI:-true}" pnpm test
node scripts/api-docs.mjs --check   # the API reference: every export documented, no broken link
