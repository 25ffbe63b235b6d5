#!/usr/bin/env bash
# Install everything the test suite needs (idempotent) and run it: ruff, then pytest.
# Usage: scripts/test.sh [pytest args...]
#
# The editors' end-to-end tests need Neovim, Chromium, code-server and the VS Code extension's packages
# (tests/e2e/install.sh, which needs root for apt-get). They are installed when CI=true or
# LEAN_COPILOT_E2E_INSTALL=1; elsewhere those tests skip and say why. The install runs in the background
# while the rest of the suite runs, and the e2e tests run once it is done.
set -euo pipefail
cd "$(dirname "$0")/.."

want_e2e=0
if [ -x tests/e2e/install.sh ] && { [ "${CI:-}" = "true" ] || [ "${LEAN_COPILOT_E2E_INSTALL:-}" = "1" ]; }; then
  want_e2e=1
  e2e_log=$(mktemp)
  tests/e2e/install.sh >"$e2e_log" 2>&1 &
  e2e_pid=$!
fi

# The real Kimina server's tests generate its Prisma client with the Prisma CLI, a Node.js program
# (tests/kimina_server.py). This kind of machine ships Node.js; a CI machine without it gets Debian's.
if [ "${CI:-}" = "true" ] && ! command -v node >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1; then
  apt-get update -qq && apt-get install -y -qq nodejs npm >/dev/null
fi

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# torch first and pinned: 2.13.0 is the CPU build; a bare `torch` requirement would pull a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[test]'

ruff check lean_copilot_py tests benchmarks

wait_for_e2e_tools() {
  if ! wait "$e2e_pid"; then
    echo "tests/e2e/install.sh failed:" >&2
    tail -n 40 "$e2e_log" >&2
    return 1
  fi
  tail -n 1 "$e2e_log"
}

if [ "$want_e2e" = 1 ] && [ $# -eq 0 ]; then
  status=0
  python -m pytest -m "not e2e" || status=$?
  wait_for_e2e_tools
  python -m pytest -m e2e || status=$?
  exit "$status"
fi
if [ "$want_e2e" = 1 ]; then
  wait_for_e2e_tools
fi
python -m pytest "$@"
