"""The scripted OpenAI-compatible server (lean_copilot_py/testing/fake_openai.py) run as its own process, as the
batch, server and chaos tests run it: it prints its URL, serves its models and its scripted turns, records requests."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

FAKE = Path(__file__).resolve().parents[2] / "lean_copilot_py" / "testing" / "fake_openai.py"


def test_fake_server_as_subprocess(tmp_path):
    script = tmp_path / "s.json"
    script.write_text(json.dumps({"model": "m1", "scripts": [{"match": "prove", "turns": ["<sketch>a</sketch>"]}]}))
    proc = subprocess.Popen([sys.executable, str(FAKE), "--port", "0", "--script", str(script)],
                            stdout=subprocess.PIPE, text=True)
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        models = json.load(urllib.request.urlopen(url + "/models", timeout=5))
        assert models["data"][0]["id"] == "m1"
        body = json.dumps({"model": "m1", "prompt": "please prove", "max_tokens": 50, "stop": ["</sketch>"],
                           "include_stop_str_in_output": True}).encode()
        req = urllib.request.Request(url + "/completions", body, {"Content-Type": "application/json"})
        out = json.load(urllib.request.urlopen(req, timeout=5))
        assert out["choices"][0]["text"] == "<sketch>a</sketch>" and out["choices"][0]["stop_reason"] == "</sketch>"
        records = json.load(urllib.request.urlopen(url.removesuffix("/v1") + "/_requests", timeout=5))
        assert records[0]["prompt_kind"] == "text" and records[0]["completed"]
    finally:
        proc.terminate()
        proc.wait(5)
