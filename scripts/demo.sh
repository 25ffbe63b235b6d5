#!/usr/bin/env bash
# The main job on a fresh machine: install lean-copilot, get Lean (elan) if missing, build lean-project/,
# and fill its sorries with verified proofs (automation alone when no model endpoint is configured).
# Extra arguments go to `lean-copilot prove` (e.g. --write, --report out.json).
#
# Exit codes: those of `lean-copilot prove` (0 all proved, 1 some not proved, 2 usage, 3 Lean can't run here,
# 4 a file not written, 130 interrupted); 3 also when Lean is missing and elan can't be installed (doctor's
# explanation is printed); 5 installing lean-copilot into .venv failed (the end of pip's log is printed), or
# Python is older than 3.11;
# 6 `lake build` of lean-project/ failed.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "lean-copilot needs Python 3.11 or newer; '$PY' is $("$PY" --version 2>/dev/null || echo 'not found')." >&2
    echo "Run it with another interpreter: PYTHON=/path/to/python3.12 scripts/demo.sh" >&2
    exit 5
  fi
  "$PY" -m venv .venv
fi
. .venv/bin/activate

# pip's own chatter (and whatever warnings this machine's pip config adds) goes to a log; the log is shown only
# when the install fails. Reinstalling is skipped while pyproject.toml is unchanged.
stamp=.venv/.lean-copilot-installed
want=$(cksum pyproject.toml)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ] || ! command -v lean-copilot >/dev/null 2>&1; then
  log=$(mktemp "${TMPDIR:-/tmp}/lean-copilot-install.XXXXXX")
  echo "Installing lean-copilot into .venv (pip's log: $log) ..."
  python -m pip install --upgrade pip >>"$log" 2>&1 || true  # an old pip still installs; a new one is nicer
  if ! python -m pip install -e . >>"$log" 2>&1; then
    echo "Installing lean-copilot failed. The end of pip's log ($log):" >&2
    # Without the "Location … is ignored" notes some pip configurations repeat for every package.
    grep -v "^WARNING: Location '.*' is ignored" "$log" | tail -n 25 >&2
    exit 5
  fi
  echo "$want" >"$stamp"
  rm -f "$log"
fi

export PATH="$HOME/.elan/bin:$PATH"
if ! command -v lake >/dev/null 2>&1; then
  echo "Lean is not installed; installing elan (Lean's toolchain manager)..."
  if ! curl -sSfL https://raw.githubusercontent.com/leanprover/elan/master/elan-init.sh -o /tmp/elan-init.sh \
      || ! sh /tmp/elan-init.sh -y --default-toolchain none; then
    echo "Could not install elan (no network?). Here is what is missing:" >&2
    lean-copilot doctor lean-project >&2 || true
    exit 3
  fi
fi

if ! (cd lean-project && lake build); then
  echo "\`lake build\` failed in lean-project/ (its output is above)." >&2
  exit 6
fi
exec lean-copilot prove lean-project "$@"
