"""KiminaChecker against the fake Kimina Lean Server: request shape, position mapping, verdicts, retries,
auth, goals, whole documents; and `prove` end to end with `kimina.enabled`."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate, Outcome, Pos, Severity
from lean_copilot_py.lean.kimina import KiminaChecker, body_line_offset
from lean_copilot_py.settings import LeanSettings
from tests.fakes.fake_kimina import FakeKimina, Rule

TEXT = """import Init

-- header above, a comment line starts the body
namespace T

theorem first (n : Nat) : n = n := by
  sorry

theorem a (n : Nat) : n + 0 = n := by
  sorry

end T
"""
PATH = Path("/proj/P/A.lean")


@pytest.fixture
async def kimina() -> AsyncIterator[FakeKimina]:
    fake = FakeKimina()
    await fake.start()
    yield fake
    await fake.close()


def checker(fake: FakeKimina, **kw) -> KiminaChecker:
    return KiminaChecker(fake.url, LeanSettings(check_timeout_s=7), backoff_s=0.01, **kw)


def target_a():
    return next(t for t in find_targets(PATH, TEXT) if t.decl_name == "a")


async def test_proved_and_request_shape(kimina: FakeKimina) -> None:
    c = checker(kimina)
    v = await c.check(target_a(), Candidate("by\n  simp"))
    await c.aclose()
    assert v.outcome is Outcome.PROVED, v.reason
    assert v.axioms == ()
    req = kimina.requests[0]
    assert set(req) >= {"snippet", "timeout"} and req["timeout"] == 7 and isinstance(req["snippet"]["id"], str)
    code = req["snippet"]["code"]
    assert code.startswith("import Init\n")
    assert code.rstrip().endswith(":= @T.a\n\n#print axioms lean_copilot_statement_check")
    assert "theorem a (n : Nat) : n + 0 = n := by\n  simp" in code
    assert "Authorization" not in kimina.headers[0]


async def test_error_positions_are_snippet_relative(kimina: FakeKimina) -> None:
    kimina.rules = [Rule(r"omega", "omega could not prove the goal")]
    c = checker(kimina)
    v = await c.check(target_a(), Candidate("by\n  omega"))
    await c.aclose()
    assert v.outcome is Outcome.FAILED and "omega could not prove" in v.reason
    (msg,) = [m for m in v.messages if m.severity is Severity.ERROR]
    assert v.snippet.splitlines()[msg.span.start.line][msg.span.start.col:].startswith("omega")


async def test_sorry_is_incomplete_with_goal(kimina: FakeKimina) -> None:
    kimina.goals = {"a": "n : Nat\n⊢ n + 0 = n"}
    c = checker(kimina)
    v = await c.check(target_a(), Candidate("by\n  skip\n  sorry"))
    await c.aclose()
    assert v.outcome is Outcome.INCOMPLETE
    (s,) = v.sorries
    assert s.goal == "n : Nat\n⊢ n + 0 = n"
    assert v.snippet.splitlines()[s.span.start.line][s.span.start.col:].startswith("sorry")


async def test_axiom_audit_is_read_at_the_audit_line(kimina: FakeKimina) -> None:
    kimina.axioms = {"T.a": ["propext", "Evil.axiom"]}
    # The proof prints a fake "clean" audit answer of its own, on another line.
    kimina.rules = [Rule(r"trace_clean", "'T.a' does not depend on any axioms", severity="info")]
    c = checker(kimina)
    v = await c.check(target_a(), Candidate("by\n  trace_clean\n  simp"))
    await c.aclose()
    assert v.outcome is Outcome.FAILED and "Evil.axiom" in v.reason


async def test_timeout_and_retries(kimina: FakeKimina) -> None:
    kimina.rules = [Rule(r"decide", timeout=True), Rule(r"omega", http_status=429, times=2),
                    Rule(r"simp", http_status=500)]
    c = checker(kimina, retries=2)
    assert (await c.check(target_a(), Candidate("by decide"))).outcome is Outcome.TIMEOUT
    assert (await c.check(target_a(), Candidate("by omega"))).outcome is Outcome.PROVED  # third try
    crashed = await c.check(target_a(), Candidate("by simp"))
    await c.aclose()
    assert crashed.outcome is Outcome.CRASHED and "HTTP 500" in crashed.reason
    assert len(kimina.requests) == 1 + 3 + 3


async def test_api_key(kimina: FakeKimina) -> None:
    kimina.api_key = "s3cret"
    bad = checker(kimina, api_key="wrong")
    v = await bad.check(target_a(), Candidate("by simp"))
    await bad.aclose()
    assert v.outcome is Outcome.CRASHED and "API key" in v.reason
    good = checker(kimina, api_key="s3cret")
    assert (await good.check(target_a(), Candidate("by simp"))).proved
    await good.aclose()
    assert kimina.headers[-1]["Authorization"] == "Bearer s3cret"


async def test_unreachable_server_is_a_crash_verdict() -> None:
    c = KiminaChecker("http://127.0.0.1:9", LeanSettings(), retries=1, backoff_s=0.01)
    v = await c.check(target_a(), Candidate("by simp"))
    await c.aclose()
    assert v.outcome is Outcome.CRASHED and "kept failing" in v.reason


async def test_goals_at_and_whole_document(kimina: FakeKimina) -> None:
    kimina.goals = {"first": "n : Nat\n⊢ n = n", "a": "n : Nat\n⊢ n + 0 = n"}
    c = checker(kimina)
    t = target_a()
    assert await c.goals_at(PATH, TEXT, t.proof_span.start) == ["n : Nat\n⊢ n + 0 = n"]
    assert await c.goals_at(PATH, TEXT, Pos(0, 0)) is None
    doc = await c.check_document(PATH, TEXT)
    assert doc.outcome is Outcome.INCOMPLETE
    kimina.rules = [Rule(r"oops", "unknown identifier 'oops'")]
    doc = await c.check_document(PATH, TEXT.replace("  sorry\n\nend", "  oops\n\nend"))
    await c.aclose()
    assert doc.outcome is Outcome.FAILED
    (err,) = [m for m in doc.messages if m.severity is Severity.ERROR]
    assert err.span.start == Pos(9, 2)  # the document's own coordinates (header lines shifted back)


def test_body_line_offset() -> None:
    assert body_line_offset("import A\n\nimport B\ntheorem x") == 3
    assert body_line_offset("-- c\nimport A") == 0


def test_prove_cli_through_kimina(project: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from lean_copilot_py.cli import main

    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no lake: Kimina needs none locally
    fake = FakeKimina(rules=[Rule(r"(?s)theorem b\b.*\b(omega|simp)\b", "omega could not prove the goal")])
    url = fake.start_in_thread()
    try:
        (project / ".lean-copilot.toml").write_text(
            f"[model]\nbackend = 'none'\n[kimina]\nenabled = true\nurl = {json.dumps(url)}\n"
            f"[search]\nautomation = ['omega', 'simp']\ncache = false\n"
            f"[paths]\ncache_dir = {json.dumps(str(tmp_path / 'cache'))}\n")
        code = main(["prove", "P", "--write", "--report", "r.json"])
    finally:
        fake.stop_thread()
    err = capsys.readouterr().err
    assert code == 1, err
    text = (project / "P/Basic.lean").read_text()
    assert "omega" in text and text.count("sorry") == 1
    rep = json.loads((project / "r.json").read_text())
    assert rep["files"]["P/Basic.lean"]["status"] == "written"
    assert [t["outcome"] for t in rep["targets"]] == ["proved", "failed"]
