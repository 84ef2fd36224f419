#!/usr/bin/env bash
# Sets up a fresh machine and runs the main job: the embedded demo (fake homeserver, backup, restore).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1
SKIP_CHROMIUM=1 bash scripts/setup.sh
export PATH="$PWD/.tools/bin:$PATH"
pnpm exec turbo run build --filter=@matrix-backup/cli... --output-logs=errors-only >/dev/null
pnpm --silent matrix-backup demo "$@"
