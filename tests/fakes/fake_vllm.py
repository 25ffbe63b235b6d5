"""A stand-in for the `vllm` executable: `python fake_vllm.py serve MODEL --host H --port P [vLLM flags]
[--fake-mode healthy|load_fail|oom|crash] [--fake-delay S] [--fake-crash-after S] [--fake-state FILE]
[--fake-pidfile FILE] [--fake-script JSON] [--fake-tokenizer DIR]`.

healthy: serves lean_copilot_py/testing/fake_openai.py's server after --fake-delay seconds (like loading weights).
load_fail / oom: prints a vLLM-like traceback and exits 1 before /health answers.
crash: serves, then exits 1 after --fake-crash-after seconds, for the first N starts (N = --fake-crash-times,
counted in --fake-state), healthy afterwards. A child process is forked into the same group to check that
the whole group is stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lean_copilot_py.testing.fake_openai import FakeOpenAI


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("cmd")
    ap.add_argument("model")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--fake-mode", default="healthy")
    ap.add_argument("--fake-delay", type=float, default=0.3)
    ap.add_argument("--fake-crash-after", type=float, default=0.5)
    ap.add_argument("--fake-crash-times", type=int, default=1)
    ap.add_argument("--fake-state", default=None)
    ap.add_argument("--fake-pidfile", default=None)
    ap.add_argument("--fake-script", default=None)
    ap.add_argument("--fake-tokenizer", default=None)
    args, _vllm_flags = ap.parse_known_args()
    print(f"INFO vllm fake serving {args.model} (flags: {' '.join(_vllm_flags)})", flush=True)
    if args.fake_pidfile:
        # a grandchild like vLLM's engine core process, in our process group
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        Path(args.fake_pidfile).write_text(json.dumps({"pid": os.getpid(), "child": child.pid}))
    starts = 1
    if args.fake_state:
        state = Path(args.fake_state)
        starts = int(state.read_text()) + 1 if state.exists() else 1
        state.write_text(str(starts))
    if args.fake_mode == "load_fail":
        print("INFO Loading model weights", flush=True)
        print("OSError: does-not-exist does not appear to have a file named config.json", file=sys.stderr,
              flush=True)
        sys.exit(1)
    if args.fake_mode == "oom":
        print("INFO Loading model weights took 3.2 GB", flush=True)
        print("ValueError: No available memory for the cache blocks. Try increasing `gpu_memory_utilization` "
              "when initializing the engine.", file=sys.stderr, flush=True)
        sys.exit(1)
    time.sleep(args.fake_delay)
    print("INFO Loading model weights took 0.01 GB", flush=True)
    crash = args.fake_mode == "crash" and starts <= args.fake_crash_times
    script = json.loads(Path(args.fake_script).read_text()) if args.fake_script else [["hello from fake vllm"]]
    asyncio.run(serve(args, script, crash))


async def serve(args: argparse.Namespace, script: object, crash: bool) -> None:
    server = FakeOpenAI(script, tokenizer_dir=args.fake_tokenizer, model=args.model)
    await server.start(args.port, args.host)
    print(f"INFO Uvicorn running on http://{args.host}:{args.port}", flush=True)
    if crash:
        await asyncio.sleep(args.fake_crash_after)
        print("RuntimeError: CUDA error: an illegal memory access was encountered", file=sys.stderr, flush=True)
        os._exit(1)
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
