"""Search pipeline vs StepFun-Prover's reference loop on the scripted fakes (`lean-copilot bench --only pipeline`).

Run: python3 benchmarks/pipeline.py [--smoke] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lean_copilot_py.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--only", "pipeline", *sys.argv[1:]]))
