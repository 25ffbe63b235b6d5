"""KiminaChecker against the real Kimina Lean Server (PyPI `kimina-ast-server==2.1.3`, its own process on
loopback) whose REPLs are our REPL double answering with the real prelude Lean 4.35 (tests/kimina_server.py,
tests/fakes/fake_repl.py): request shape, the header/body split and its positions, verdicts, sorries and
their goals, the axiom audit, timeouts, a REPL killed under it, no free REPL, retries, the API key."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from lean_copilot_py.core.types import Candidate, Outcome, Pos, Severity
from lean_copilot_py.lean.kimina import KiminaChecker, sendable, split_like_server
from lean_copilot_py.settings import LeanSettings
from tests.helpers import make_target
from tests.kimina_server import KiminaServer, running_kimina
from tests.real_lean import PRELUDE_BASE, RealLean

pytestmark = pytest.mark.real_lean

HALF = "N.two"
for _ in range(14):
    HALF = f"(N.double {HALF})"

TEXT = f"""import Prelude.Basic
-- the server's header would end at this comment, and `import Init` below would fail in the body
import Init

set_option maxRecDepth 1000000

noncomputable def half : N := {HALF}
noncomputable def big : N := N.double half

namespace T

theorem first (a : N) : Eq (N.add a N.z) a := sorry

theorem a (a : N) : Eq (N.add a N.z) a := sorry

theorem b : Eq N.one N.two := sorry

theorem c : Eq True True := sorry

-- Lean takes a few seconds here (both sides unfold to a numeral of 2^16)
theorem slow : Eq big (N.add half half) := sorry

end T
"""
PATH = Path("/kimina/A.lean")


@pytest.fixture(scope="module")
def kimina(real_lean: RealLean, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KiminaServer]:
    with running_kimina(real_lean, tmp_path_factory.mktemp("kimina")) as server:
        yield server


def checker(server: KiminaServer, timeout: float = 20, **kw: object) -> KiminaChecker:
    return KiminaChecker(server.url, LeanSettings(check_timeout_s=timeout), backoff_s=0.05, **kw)  # type: ignore[arg-type]


def _since(server: KiminaServer, n: int) -> list[dict]:
    return server.repl_requests()[n:]


async def test_proved_with_the_header_run_once(kimina: KiminaServer) -> None:
    seen = len(kimina.repl_requests())
    c = checker(kimina)
    try:
        v = await c.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
        again = await c.check(make_target(TEXT, "first", path=PATH), Candidate("Eq.refl"))
    finally:
        await c.aclose()
    assert v.outcome is Outcome.PROVED, v.reason
    assert v.axioms == () and v.messages == ()
    assert again.outcome is Outcome.PROVED, again.reason
    sent = _since(kimina, seen)
    bodies = [r for r in sent if r["cmd"].startswith("set_option maxRecDepth")]
    assert len(bodies) == 2 and all(r.get("env") == 0 for r in bodies)  # both bodies after the header env
    assert bodies[0]["cmd"].rstrip().endswith("#print axioms lean_copilot_statement_check")
    assert ":= @T.a" in bodies[0]["cmd"]
    assert "import" not in bodies[0]["cmd"]
    for pid in {r["pid"] for r in bodies}:
        first, *rest = [r for r in kimina.repl_requests() if r["pid"] == pid]
        # each REPL ran the imports first, as a new file, and never again
        assert first == {"pid": pid, "cmd": "import Prelude.Basic\nimport Init"}
        assert all(r["cmd"] != first["cmd"] for r in rest)


async def test_failed_at_the_candidates_own_position(kimina: KiminaServer) -> None:
    c = checker(kimina)
    try:
        helper = Candidate("Eq.refl", helpers="theorem helper : True := N.z")
        v = await c.check(make_target(TEXT, "a", path=PATH), helper)
    finally:
        await c.aclose()
    assert v.outcome is Outcome.FAILED
    errors = [m for m in v.messages if m.severity is Severity.ERROR]
    assert errors, v.reason
    lines = v.snippet.splitlines()
    # Lean's type mismatch sits on `N.z` in the helper: line 0 of the snippet, not shifted by the header
    assert lines[errors[0].span.start.line][errors[0].span.start.col :].startswith("N.z"), errors[0]
    assert "Type mismatch" in errors[0].text


async def test_sorry_is_incomplete_with_its_goal(kimina: KiminaServer) -> None:
    c = checker(kimina)
    try:
        v = await c.check(make_target(TEXT, "a", path=PATH), Candidate("sorry"))
    finally:
        await c.aclose()
    assert v.outcome is Outcome.INCOMPLETE, v.reason
    (s,) = v.sorries
    assert s.goal == "a : N\n⊢ Eq (a.add N.z) a"
    assert v.snippet.splitlines()[s.span.start.line][s.span.start.col :].startswith("sorry")


async def test_axiom_audit(kimina: KiminaServer) -> None:
    c = checker(kimina)
    try:
        allowed = await c.check(make_target(TEXT, "c", path=PATH), Candidate("propext (fun h => h) (fun h => h)"))
        user = await c.check(make_target(TEXT, "b", path=PATH), Candidate("user_ax"))
        helper = await c.check(make_target(TEXT, "b", path=PATH),
                               Candidate("helper", helpers="theorem helper : Eq N.one N.two := user_ax"))
    finally:
        await c.aclose()
    assert allowed.outcome is Outcome.PROVED and allowed.axioms == ("propext",), allowed.reason
    assert user.outcome is Outcome.FAILED and "user_ax" in user.reason
    assert helper.outcome is Outcome.FAILED and "user_ax" in helper.reason


async def test_timeout_kills_the_repl_and_the_next_check_works(kimina: KiminaServer) -> None:
    c = checker(kimina, timeout=1)
    seen = len(kimina.repl_requests())
    try:
        started = time.monotonic()
        v = await c.check(make_target(TEXT, "slow", path=PATH), Candidate("Eq.refl"))
        took = time.monotonic() - started
        after = await c.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
    finally:
        await c.aclose()
    assert v.outcome is Outcome.TIMEOUT and "timed out in 1" in v.reason, v.reason
    assert took < 10
    assert after.outcome is Outcome.PROVED, after.reason
    slow_pid = next(r["pid"] for r in _since(kimina, seen) if ":= @T.slow" in r["cmd"])
    assert not psutil.pid_exists(slow_pid) or psutil.Process(slow_pid).status() == psutil.STATUS_ZOMBIE


async def test_a_repl_killed_mid_check_is_retried(kimina: KiminaServer) -> None:
    """The server answers "Snippet execution failed" when its REPL dies; the client tries again."""
    c = checker(kimina, timeout=30, retries=1)
    seen = len(kimina.repl_requests())
    try:
        task = asyncio.create_task(c.check(make_target(TEXT, "slow", path=PATH), Candidate("Eq.refl")))
        pid = None
        for _ in range(200):
            pid = next((r["pid"] for r in _since(kimina, seen) if ":= @T.slow" in r["cmd"]), None)
            if pid:
                break
            await asyncio.sleep(0.05)
        assert pid, "the slow check never reached a REPL"
        os.killpg(pid, signal.SIGKILL)  # the REPL and its `lean` (the server starts each REPL in its own group)
        v = await task
    finally:
        await c.aclose()
    assert v.outcome is Outcome.PROVED, v.reason
    pids = {r["pid"] for r in _since(kimina, seen) if ":= @T.slow" in r["cmd"]}
    assert len(pids) == 2  # the second try ran on a fresh REPL


async def test_prelude_documents_get_a_fresh_repl(kimina: KiminaServer) -> None:
    """No header: environment 0 of a reused REPL would be the previous check's document (every
    declaration "already declared"), so the client asks for a fresh REPL."""
    text = PRELUDE_BASE + "\ntheorem t (a : N) : Eq (N.add a N.z) a := sorry\n"
    wrong = text.replace(":= sorry", ":= N.z")
    seen = len(kimina.repl_requests())
    c = checker(kimina)
    try:
        first = await c.check(make_target(text, "t", path=PATH), Candidate("Eq.refl"))
        second = await c.check(make_target(text, "t", path=PATH), Candidate("Eq.refl"))
        doc = await c.check_document(PATH, wrong)
    finally:
        await c.aclose()
    assert first.outcome is Outcome.PROVED, first.reason
    assert second.outcome is Outcome.PROVED, second.reason
    bodies = [r for r in _since(kimina, seen) if r["cmd"].startswith("prelude")]
    assert len(bodies) == 3 and all("env" not in r for r in bodies)
    assert doc.outcome is Outcome.FAILED
    (err,) = [m for m in doc.messages if m.severity is Severity.ERROR and "Type mismatch" in m.text]
    assert err.span.start == Pos(wrong.count("\n") - 1, wrong.splitlines()[-1].rindex("N.z"))


async def test_goals_at_and_whole_documents(kimina: KiminaServer) -> None:
    c = checker(kimina)
    try:
        goals = await c.goals_at(PATH, TEXT, make_target(TEXT, "a", path=PATH).proof_span.start)
        nothing = await c.goals_at(PATH, TEXT, Pos(0, 0))
        doc = await c.check_document(PATH, TEXT)
        broken = TEXT.replace("theorem b : Eq N.one N.two := sorry", "theorem b : Eq N.one N.two := oops")
        bad = await c.check_document(PATH, broken)
    finally:
        await c.aclose()
    assert goals == ["a : N\n⊢ Eq (a.add N.z) a"]
    assert nothing is None
    assert doc.outcome is Outcome.INCOMPLETE, doc.reason
    assert bad.outcome is Outcome.FAILED
    (err,) = [m for m in bad.messages if m.severity is Severity.ERROR]
    line = broken.splitlines().index("theorem b : Eq N.one N.two := oops")
    assert err.span.start == Pos(line, broken.splitlines()[line].index("oops"))  # the document's coordinates
    assert "oops" in err.text


async def test_api_key(real_lean: RealLean, tmp_path: Path) -> None:
    with running_kimina(real_lean, tmp_path, api_key="s3cret") as server:
        verdicts = {}
        for key in (None, "wrong", "s3cret"):
            c = checker(server, api_key=key)
            try:
                verdicts[key] = await c.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
            finally:
                await c.aclose()
        assert verdicts[None].outcome is Outcome.CRASHED and "API key" in verdicts[None].reason
        assert verdicts["wrong"].outcome is Outcome.CRASHED and "API key" in verdicts["wrong"].reason
        assert verdicts["s3cret"].outcome is Outcome.PROVED, verdicts["s3cret"].reason
        repls = {r["pid"] for r in server.repl_requests()}
    # Stopping the server leaves no REPL behind.
    procs = []
    for pid in repls:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            pass
    _gone, alive = psutil.wait_procs(procs, timeout=10)
    assert repls and not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE]


async def test_no_free_repl_then_a_retry(real_lean: RealLean, tmp_path: Path) -> None:
    """One REPL, a one-second wait for it: a check behind a busy one gets "No available REPLs"; with
    retries (and backoff) it gets a REPL once the busy one is done. The busy check holds the REPL for its
    three-second budget (then the server kills it), however loaded the machine is."""
    with running_kimina(real_lean, tmp_path, max_repls=1, max_wait_s=1) as server:
        warm = checker(server)
        try:
            assert (await warm.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))).proved  # the REPL exists
        finally:
            await warm.aclose()
        for retries, expect in ((0, Outcome.CRASHED), (6, Outcome.PROVED)):
            busy_checker, quick = checker(server, timeout=3), KiminaChecker(
                server.url, LeanSettings(check_timeout_s=20), retries=retries, backoff_s=0.5)
            try:
                slow = make_target(TEXT, "slow", path=PATH)
                busy = asyncio.create_task(busy_checker.check(slow, Candidate("Eq.refl")))
                await asyncio.sleep(0.3)
                v = await quick.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
                assert (await busy).outcome in (Outcome.TIMEOUT, Outcome.PROVED)
            finally:
                await busy_checker.aclose()
                await quick.aclose()
            assert v.outcome is expect, v.reason
            if expect is Outcome.CRASHED:
                assert "No available REPLs" in v.reason


async def test_unreachable_server_is_a_crash_verdict() -> None:
    c = KiminaChecker("http://127.0.0.1:9", LeanSettings(), retries=1, backoff_s=0.01)
    v = await c.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
    await c.aclose()
    assert v.outcome is Outcome.CRASHED and "kept failing" in v.reason


def test_split_like_the_server() -> None:
    code = "import A\r\n\r\nimport B\r\ntheorem x\u2028  : True := y\nend"
    split = split_like_server(code)
    assert split.header == "import A\nimport B" and split.body_start == 3
    # Body line 2 is the text after U+2028 (str.splitlines breaks there; the server joins the body with \n)
    assert split.doc_pos({"line": 2, "column": 12}) == Pos(3, code.split("\n")[3].index("y"))
    assert split.doc_pos({"line": 3, "column": 99}) == Pos(4, 3)  # clamped to the line
    assert split_like_server("-- c\nimport A").header == ""


def test_sendable_keeps_every_import_in_the_header() -> None:
    code = "import A\n-- why B\nimport B\n\n-- body comment\ntheorem x : True := y\n"
    sent = sendable(code)
    assert sent.count("\n") == code.count("\n")
    assert split_like_server(sent).header == "import A\nimport B"
    assert "-- body comment" not in sent and "theorem x" in sent
    assert sendable("theorem x -- c\n-- c\n") == "theorem x -- c\n-- c\n"


async def test_the_server_refuses_the_old_single_snippet_body(kimina: KiminaServer) -> None:
    """What the client used to send (`{"snippet": …}`, an API of one day in July 2025) is a 422 here."""
    import aiohttp

    async with aiohttp.ClientSession() as s, s.post(f"{kimina.url}/api/check",
                                                    json={"snippet": {"id": "x", "code": TEXT}}) as r:
        body = await r.json()
    assert r.status == 422
    assert body["detail"][0]["loc"] == ["body", "snippets"] and body["detail"][0]["msg"] == "Field required"


async def test_a_repl_error_answer_is_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """The REPL's own errors (`{"message": …}`, e.g. an unknown environment) never reach the verdict rules:
    with no messages they would read as a missing audit, not as the REPL failing."""
    from lean_copilot_py.lean.kimina import KiminaReply

    async def post(self: KiminaChecker, code: str, timeout: float, *, reuse: bool = True) -> KiminaReply:  # noqa: ASYNC109
        return KiminaReply(0.0, None, {"message": "Unknown environment."})

    monkeypatch.setattr(KiminaChecker, "post", post)
    unreachable = KiminaChecker("http://127.0.0.1:9", LeanSettings())
    v = await unreachable.check(make_target(TEXT, "a", path=PATH), Candidate("Eq.refl"))
    assert v.outcome is Outcome.CRASHED and "Unknown environment." in v.reason
