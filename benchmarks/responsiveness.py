"""Code-action latency and RSS of `lean-copilot serve` while searches run (`lean-copilot bench --only responsiveness`).

Run: python3 benchmarks/responsiveness.py [--smoke] [--json out.json]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lean_copilot_py.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", "--only", "responsiveness", *sys.argv[1:]]))
