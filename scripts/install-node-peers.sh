#!/usr/bin/env bash
# Installs the Node interop peers (mppx 0.11.0, with viem 2.54.0: newer viem releases declare
# a peer mppx>=0.17 that npm cannot resolve) into a cache directory outside the tree.
# Prints the directory holding node_modules. Exits 3 (and prints nothing) without Node/npm.
# Usage: scripts/install-node-peers.sh [DIR]   (default: ${XDG_CACHE_HOME:-~/.cache}/link-cli-node-peers)
set -euo pipefail
MPPX_VERSION=0.11.0
VIEM_VERSION=2.54.0
dir=${1:-${LINK_NODE_PEERS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/link-cli-node-peers}}
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "node/npm not found: the mppx interop tests will be skipped" >&2
  exit 3
fi
mkdir -p "$dir"
installed=$(node -p "try { require('$dir/node_modules/mppx/package.json').version } catch (e) { '' }")
if [ "$installed" != "$MPPX_VERSION" ]; then
  [ -f "$dir/package.json" ] || echo '{"name": "link-cli-node-peers", "private": true}' > "$dir/package.json"
  npm install --prefix "$dir" --no-audit --no-fund --silent --save-exact "mppx@$MPPX_VERSION" "viem@$VIEM_VERSION" >&2
fi
echo "$dir"
