#!/usr/bin/env bash
# The main job on a fresh machine: install lean-copilot, get Lean (elan) if missing, build lean-project/,
# and fill its sorries with verified proofs (automation alone when no model endpoint is configured).
# Extra arguments go to `lean-copilot prove` (e.g. --write, --report out.json).
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
. .venv/bin/activate
python -m pip install -q --upgrade pip >/dev/null
python -m pip install -q -e .

export PATH="$HOME/.elan/bin:$PATH"
if ! command -v lake >/dev/null 2>&1; then
  echo "Lean is not installed; installing elan (Lean's toolchain manager)..."
  if ! curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -o /tmp/elan-init.sh \
      || ! sh /tmp/elan-init.sh -y --default-toolchain none; then
    echo "Could not install elan (no network?). Here is what is missing:" >&2
    lean-copilot doctor lean-project || exit $?
  fi
fi

if command -v lake >/dev/null 2>&1; then
  (cd lean-project && lake build)
fi
exec lean-copilot prove lean-project "$@"
