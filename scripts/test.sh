#!/usr/bin/env bash
# Install everything the test suite needs (idempotent) and run it.
# Usage: scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
# torch first and pinned: 2.13.0 is the CPU build; a bare `torch` requirement would pull a multi-GB CUDA build.
python -m pip install -q torch==2.13.0
python -m pip install -q -e '.[test]'

# The editors' end-to-end tests need Neovim, Chromium, code-server and the VS Code extension's packages.
# Installing them needs root (apt-get); elsewhere those tests skip and say why.
if [ -x tests/e2e/install.sh ] && { [ "${CI:-}" = "true" ] || [ "${LEAN_COPILOT_E2E_INSTALL:-}" = "1" ]; }; then
  tests/e2e/install.sh
fi

ruff check lean_copilot_py tests
python -m pytest "$@"
