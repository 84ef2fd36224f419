#!/usr/bin/env bash
# Everything a fresh machine needs: the pinned pnpm (from npm; corepack cannot verify it here),
# Debian's Chromium for the browser tests, and the workspace's packages. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export npm_config_nodedir="${npm_config_nodedir:-/usr}"   # pnpm 12 does not pass ~/.npmrc nodedir to node-gyp

PNPM_VERSION="$(node -p 'require("./package.json").packageManager.split("@")[1]')"
if [ "$(.tools/bin/pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  npm install --global --prefix "$PWD/.tools" --no-audit --no-fund "pnpm@$PNPM_VERSION" >/dev/null 2>&1
fi

if [ "${SKIP_CHROMIUM:-}" != "1" ] && ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

.tools/bin/pnpm install --frozen-lockfile --reporter=append-only 2>&1 | grep -vE '^\S*node_modules/better-sqlite3 install: ' || true
test -d node_modules/.pnpm
