"""Differential test of the screen against the real Lean 4.35 (issue 16 §1): whenever Lean runs a marker
command hidden somewhere in a generated candidate, the screen must have refused that candidate.

Candidates mix plain strings with escapes, quotes and braces, `dbg_trace "…{…}…"` interpolations (a
built-in term syntax: no list of openers knows it), nested comments, `«»` names, raw strings, character
literals, line comments, string gaps and malformed literals around `#print "MARK"`. Each is checked the
way a real check is: as a Candidate for a target in a prelude file, in the shadow document lean/shadow.py
builds, by `lean --json`. "Lean ran the marker" means an information message that is exactly `MARK`
(an error quoting the source is not). A fixed seed and a bounded count run in CI;
LEAN_COPILOT_SCREEN_FUZZ=N runs N candidates (and LEAN_COPILOT_SCREEN_FUZZ_SEED another seed).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lean_copilot_py.core.lexer import Kind, tokenize
from lean_copilot_py.core.screen import candidate_text, screen_candidate
from lean_copilot_py.core.targets import find_targets
from lean_copilot_py.core.types import Candidate
from lean_copilot_py.lean.shadow import shadow_for
from tests.real_lean import RealLean, prelude_file

pytestmark = [pytest.mark.real_lean, pytest.mark.timeout(1800)]

MARK = '#print "MARK"'
# Anything at all, the tricky parts of Lean's lexical syntax above all.
FRAGMENTS = [
    '"a"', r'"\""', '"{"', '"}"', r'"\\"', '"{x}"', r'"\{"', r'"\q"', r'"\x4"', r'"\u00e9"', '"a\\\n   b"',
    '"a\\\n\n b"', r'"{"\""}"', '"', '"{', '}"', '"\\', '\\"', '"{ -- }"', 'dbg_trace "', 'dbg_trace "{',
    'dbg_trace "a{"b"}c"; ', '{', '}', '{)}', '"}"', '"{"', "True.intro", "; True.intro", '" ; True.intro', "/-",
    "-/", "/- a -/", "/- /- -/", "--", "-- x\n", "/-- d -/", "/-!", "/-/", "«", "»", "«a b»", '«"»', "«#»", 'r#"',
    '"#', 'r"', 'r#"x"#', 'r##"', '"##', "'a'", r"'\''", "'\"'", r"'\\'", "'", "''", r"'\q'", "'{'", "'}'", "(",
    ")", "1.5e", "0x", "1_", " ", "\n", "\n\n", "; ", "x", "`a", "``b", "\t", '"\t"', "'\t'", "«\n»", "#", "@[",
    "]", "\\", "(x : Nat)", "fun x => x", "by", "⟨", "⟩",
]
# Pieces that open something the marker may then hide in (or seem to), and pieces that close it.
OPENERS = [
    '"', 'dbg_trace "', 'dbg_trace "{', 'dbg_trace "{"', '"{', r'"\q', r'"\{', "/-", "--", "«", 'r#"', "'",
    '"{ --', "{", '"a\\\n', r'"\x4', '"{)}', 'dbg_trace "{)}', "1.5e", "0x", r"'\q", r'"{"\""}"',
    r'dbg_trace "{"\""}"',
]
CLOSERS = ['"', '}"', "-/", "»", '"#', "'", '--"', "}", ' --"', '"; True.intro', "\n"]
TARGET_TEXT = prelude_file("theorem fuzz_target : True := sorry")


def generate(rng: random.Random) -> Candidate:
    before = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 3))]
    before += [rng.choice(OPENERS) for _ in range(rng.randint(1, 2))]
    after = [rng.choice(CLOSERS) for _ in range(rng.randint(0, 2))]
    after += [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 3))]
    marker = rng.choice(["\n", " ", ""]) + MARK + rng.choice([" ", "\n", ""])
    body = "".join([*before, marker, *after])
    if rng.random() < 0.7:
        body = "True.intro " + body
    if rng.random() < 0.2:  # in helper position, before the user's declaration
        return Candidate(proof="True.intro", helpers=body)
    return Candidate(proof=body)


def lean_ran_marker(lean: Path, file: Path) -> bool:
    done = subprocess.run([str(lean), "--json", str(file)], capture_output=True, text=True, timeout=120,
                          cwd=file.parent, check=False)
    for line in done.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if msg.get("severity") == "information" and msg.get("data") == "MARK":
            return True
    return False


def visible_to_a_plain_lexer(c: Candidate) -> bool:
    """Is the marker's `#print` a command token of the straight reading (what a screen without readings
    of interpolation and recovery would see)?"""
    return any(t.kind is Kind.COMMAND and t.text == "#print" for t in tokenize(candidate_text(c)))


def test_whenever_lean_runs_a_hidden_marker_the_screen_refused_it(real_lean: RealLean, tmp_path: Path) -> None:
    count = int(os.environ.get("LEAN_COPILOT_SCREEN_FUZZ", "150"))
    seed = int(os.environ.get("LEAN_COPILOT_SCREEN_FUZZ_SEED", "16"))
    rng = random.Random(seed)
    candidates = [generate(rng) for _ in range(count)]
    (target,) = (t for t in find_targets(tmp_path / "Fuzz.lean", TARGET_TEXT) if t.decl_name == "fuzz_target")

    def run(item: tuple[int, Candidate]) -> bool:
        i, cand = item
        file = tmp_path / f"Fuzz{i}.lean"
        file.write_text(shadow_for(target, cand).text, encoding="utf-8")
        return lean_ran_marker(real_lean.lean, file)

    with ThreadPoolExecutor(max_workers=max(2, min(8, os.cpu_count() or 2))) as pool:
        ran = list(pool.map(run, enumerate(candidates)))

    # Sketch-mode screening (the laxest: `sorry` and search tactics allowed) must refuse it.
    escaped = [c for c, r in zip(candidates, ran, strict=True) if r and screen_candidate(c, strict=False) is None]
    hidden = sum(1 for c, r in zip(candidates, ran, strict=True) if r and not visible_to_a_plain_lexer(c))
    print(f"screen fuzz: seed {seed}, {count} candidates, Lean ran the marker in {sum(ran)}, "
          f"{hidden} of them hidden from a plain lexer, {len(escaped)} not refused")
    assert not escaped, "Lean ran the marker but the screen let these through:\n" + "\n".join(
        f"helpers={c.helpers!r} proof={c.proof!r}" for c in escaped[:10])
    # Teeth: the generator must keep producing candidates where Lean really runs a hidden marker.
    assert sum(ran) >= count // 5, sum(ran)
    assert hidden >= count // 30, hidden
