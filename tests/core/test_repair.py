"""Repair targets from Lean's messages (core/repair.py): which declarations are repaired, which are reported and
why, the editor's cheap test, and the prior turn a repair's prompt starts from. Hand-built messages pin the rules;
the real prelude Lean shows they hold for what Lean actually reports."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from lean_copilot_py.core.outline import outline
from lean_copilot_py.core.repair import (
    PROOF_KEYWORDS,
    import_header_end,
    import_problem,
    prior_code,
    prior_turn,
    rebase_verdict,
    repair_target_at,
    scan_for_repairs,
)
from lean_copilot_py.core.splice import spliced_document
from lean_copilot_py.core.transcript import Transcript, to_json, to_markdown
from lean_copilot_py.core.types import (
    Candidate,
    LeanMessage,
    Outcome,
    Pos,
    Severity,
    SorryGoal,
    Span,
    TargetKind,
    Verdict,
    offset_to_pos,
    pos_to_offset,
)

PATH = Path("/project/Demo.lean")
E, W = Severity.ERROR, Severity.WARNING

TEXT = """import Foo.Bar

theorem good : True := True.intro

theorem broken (a : N) : Eq (N.add a N.z) a := N.z

/-- A doc comment. -/
theorem bad_stmt (a : N) : Eq (N.add a N.bogus) a := Eq.refl

#check N.zz

theorem tactic_proof (a : N) : Eq a a := by
  exact foo
  rfl

def d : N := bogus
"""


def at(text: str, needle: str, message: str, severity: Severity = E, *, length: int | None = None,
       end_needle: str | None = None, unsolved: bool = False) -> LeanMessage:
    """A document-absolute message on the first ``needle`` (up to the end of ``end_needle`` when given)."""
    start = text.index(needle)
    end = text.index(end_needle, start) + len(end_needle) if end_needle else start + (length or len(needle))
    return LeanMessage(severity, Span(offset_to_pos(text, start), offset_to_pos(text, end)), message, unsolved)


def proof_text(text: str, span: Span) -> str:
    return text[pos_to_offset(text, span.start) : pos_to_offset(text, span.end)]


# --- scan_for_repairs on hand-built messages --------------------------------------------------------------------


def test_a_proof_error_makes_a_declaration_target_carrying_the_failing_proof():
    err = at(TEXT, "N.z\n", "Type mismatch\n  N.z\nhas type\n  N", length=3)
    scan = scan_for_repairs(PATH, TEXT, [err])
    assert scan.import_problem is None and scan.unrepairable == ()
    (target,) = scan.targets
    assert target.kind is TargetKind.DECLARATION and target.decl_name == "broken"
    assert target.repair is not None
    assert target.repair.original == " N.z" == proof_text(TEXT, target.proof_span)
    # Relative to the declaration's first line, like a Verdict's snippet positions.
    (rel,) = target.repair.errors
    assert rel.span.start == Pos(0, len("theorem broken (a : N) : Eq (N.add a N.z) a := "))
    assert rel.text == err.text
    assert target.header == "theorem broken (a : N) : Eq (N.add a N.z) a :="


def test_a_statement_error_is_reported_not_repaired():
    err = at(TEXT, "N.bogus", "Unknown constant `N.bogus`")
    proof_err = at(TEXT, "Eq.refl\n\n#check", "Type mismatch", length=7)
    scan = scan_for_repairs(PATH, TEXT, [err, proof_err])
    assert scan.targets == ()
    (bad,) = scan.unrepairable
    assert bad.decl_name == "bad_stmt" and bad.span == err.span
    assert "statement" in bad.reason and "Unknown constant `N.bogus`" in bad.reason
    assert bad.reason.startswith(f"line {err.span.start.line + 1}:")
    assert bad.messages == (err,)


def test_an_error_spanning_the_whole_declaration_counts_as_a_proof_error():
    # Kernel errors (and prelude Lean's "internal exception #3") cover the whole command, header included.
    err = at(TEXT, "theorem broken", "(kernel) declaration has metavariables 'broken'", end_needle="N.z\n")
    (target,) = scan_for_repairs(PATH, TEXT, [err]).targets
    assert target.decl_name == "broken"


def test_errors_outside_declarations_and_in_defs_when_only_proofs_are_repaired():
    check_err = at(TEXT, "N.zz", "Unknown constant `N.zz`")
    def_err = at(TEXT, "bogus\n", "Unknown identifier `bogus`", length=5)
    scan = scan_for_repairs(PATH, TEXT, [def_err, check_err])
    assert [t.decl_name for t in scan.targets] == ["d"]  # every declaration kind by default
    assert [u.decl_name for u in scan.unrepairable] == [""]
    assert "outside any declaration" in scan.unrepairable[0].reason
    only_proofs = scan_for_repairs(PATH, TEXT, [def_err, check_err], keywords=PROOF_KEYWORDS)
    assert only_proofs.targets == ()
    assert [u.decl_name for u in only_proofs.unrepairable] == ["", "d"]  # in text order
    assert "`def` declarations are not repaired" in only_proofs.unrepairable[1].reason


def test_targets_come_earliest_first_one_per_declaration():
    errs = [
        at(TEXT, "rfl", "no goals to be proved"),
        at(TEXT, "exact foo", "Unknown identifier `foo`"),
        at(TEXT, "N.z\n", "Type mismatch", length=3),
        at(TEXT, "theorem broken", "declaration uses 'sorry'", W),
    ]
    scan = scan_for_repairs(PATH, TEXT, errs)
    assert [t.decl_name for t in scan.targets] == ["broken", "tactic_proof"]
    tactic = scan.targets[1]
    assert tactic.repair is not None
    assert tactic.repair.original == " by\n  exact foo\n  rfl"
    assert [m.text for m in tactic.repair.errors] == ["Unknown identifier `foo`", "no goals to be proved"]
    assert [m.span.start for m in tactic.repair.errors] == [Pos(1, 2), Pos(2, 2)]
    # The warning is kept with the declaration's messages (the REPL would show it), but is no error.
    assert [m.severity for m in scan.targets[0].repair.messages] == [W, E]


def test_warnings_alone_leave_the_document_clean():
    scan = scan_for_repairs(PATH, TEXT, [at(TEXT, "theorem good", "declaration uses 'sorry'", W)])
    assert scan.clean and scan.targets == ()


def test_a_declaration_without_assign_cannot_be_repaired():
    text = "theorem na (a : N) : Eq a a\n\ntheorem t2 : True := True.intro\n"
    # Lean reports the missing `:=` at the end of the header, running on to the next command.
    err = at(text, "\n\ntheorem t2", "unexpected token 'theorem'; expected ':=', 'where' or '|'", length=10)
    (bad,) = scan_for_repairs(PATH, text, [err]).unrepairable
    assert bad.decl_name == "na" and "no `:=` proof" in bad.reason


def test_a_parse_error_running_into_the_next_command_is_the_broken_declarations():
    text = "theorem p1 (a : N) : Eq a a := (Eq.refl\n\ntheorem t2 : True := True.intro\n"
    err = at(text, "\n\ntheorem t2", "unexpected token 'theorem'; expected ')', ',' or ':'", end_needle="theorem")
    (target,) = scan_for_repairs(PATH, text, [err]).targets
    assert target.decl_name == "p1"
    (rel,) = target.repair.errors
    # Its end is clamped to the declaration's: the model is shown no position past its own code.
    assert rel.span.start == rel.span.end == Pos(0, len("theorem p1 (a : N) : Eq a a := (Eq.refl"))


def test_a_missing_proof_and_an_error_at_the_end_of_the_file():
    text = "theorem p1 (a : N) : Eq a a :=\n"
    err = LeanMessage(E, Span(Pos(1, 0), Pos(1, 0)), "unexpected end of input; expected term")
    (target,) = scan_for_repairs(PATH, text, [err]).targets
    assert target.decl_name == "p1" and target.repair.original == ""


# --- imports ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message", "pos"),
    [
        ("import Nonexistent.Module\n\ntheorem x : True := True.intro\n",
         "unknown module prefix 'Nonexistent'\n\nNo directory 'Nonexistent' or file 'Nonexistent.olean' in the search "
         "path entries:\n/lib/lean", Pos(0, 0)),
        ("prelude\nimport A\nimport B.C\n\ntheorem x : True := True.intro\n", "some Lake build failure", Pos(2, 3)),
        # No import line (the file imports Init implicitly): the text alone says it.
        ("theorem x : True := True.intro\n", "unknown module prefix 'Init'\n\nNo directory 'Init' …", Pos(0, 0)),
        ("import A\n\ntheorem x : True := True.intro\n",
         "object file '/p/.lake/build/lib/lean/A.olean' of module A does not exist", Pos(0, 0)),
        ("import A\n\ntheorem x : True := True.intro\n",
         'Imports are out of date and must be rebuilt; use the "Restart File" command in your editor.', Pos(0, 0)),
        ("import A\n\ntheorem x : True := True.intro\n",
         "failed to read file '/p/A.olean', invalid header", Pos(0, 0)),
    ],
)
def test_an_import_failure_is_reported_and_nothing_is_repaired(text: str, message: str, pos: Pos):
    err = LeanMessage(E, Span(pos, pos), message)
    proof_err = at(text, "True.intro", "Type mismatch")
    scan = scan_for_repairs(PATH, text, [err, proof_err])
    assert scan.targets == () and scan.unrepairable == ()
    assert scan.import_problem == f"line {pos.line + 1}: {message.splitlines()[0]}"
    assert repair_target_at(PATH, text, offset_to_pos(text, text.index("True.intro")), [err, proof_err]) is None


def test_import_texts_count_only_where_lean_reports_a_failed_import():
    # Mid-file, such a text is no failure of the file's imports (e.g. an `import` misplaced into the file).
    text = "import A\n\ntheorem x : True := True.intro\n\nimport B\n"
    err = at(text, "import B", "invalid 'import' command, it must be used in the beginning of the file")
    odd = at(text, "True.intro", "unknown module prefix 'Q'")
    scan = scan_for_repairs(PATH, text, [err, odd])
    assert scan.import_problem is None
    assert [t.decl_name for t in scan.targets] == ["x"]


def test_the_import_header_ends_after_the_last_import():
    text = "prelude\npublic import all Foo.Bar\nmeta import «X»\n/-! doc -/\ntheorem x : True := sorry\n"
    assert text[: import_header_end(outline(text))] == "prelude\npublic import all Foo.Bar\nmeta import «X»"
    assert import_header_end(outline("theorem x : True := sorry\n")) == 0
    # An error on the first declaration's line of a file without imports is no import problem.
    text = "theorem x : True := N.z\n"
    assert import_problem(text, [at(text, "N.z", "Type mismatch")]) is None


# --- the editor's cheap test ------------------------------------------------------------------------------------


def test_repair_target_at_the_cursor_from_the_editors_diagnostics():
    o = outline(TEXT)
    errs = [at(TEXT, "exact foo", "Unknown identifier `foo`"), at(TEXT, "N.bogus", "Unknown constant `N.bogus`")]
    inside = offset_to_pos(TEXT, TEXT.index("rfl"))
    target = repair_target_at(PATH, TEXT, inside, errs, o=o)
    assert target is not None and target.decl_name == "tactic_proof"
    assert target.repair is not None and [m.span.start for m in target.repair.errors] == [Pos(1, 2)]
    on_header = offset_to_pos(TEXT, TEXT.index("tactic_proof"))
    assert repair_target_at(PATH, TEXT, on_header, errs, o=o) == target
    # The statement error makes its declaration no repair target; other declarations' errors don't count.
    assert repair_target_at(PATH, TEXT, offset_to_pos(TEXT, TEXT.index("bad_stmt")), errs, o=o) is None
    assert repair_target_at(PATH, TEXT, offset_to_pos(TEXT, TEXT.index("N.z\n")), errs, o=o) is None
    assert repair_target_at(PATH, TEXT, offset_to_pos(TEXT, TEXT.index("#check")), errs, o=o) is None
    # Warnings and infos are no reason to repair.
    warn = at(TEXT, "exact foo", "unused variable", W)
    assert repair_target_at(PATH, TEXT, inside, [warn], o=o) is None
    assert repair_target_at(PATH, TEXT, inside, [], o=o) is None


def test_repair_target_at_agrees_with_the_scan():
    errs = [at(TEXT, "N.z\n", "Type mismatch", length=3), at(TEXT, "exact foo", "Unknown identifier `foo`")]
    for target in scan_for_repairs(PATH, TEXT, errs).targets:
        assert repair_target_at(PATH, TEXT, target.proof_span.start, errs) == target


def test_crlf_text():
    text = TEXT.replace("\n", "\r\n")
    err = at(text, "exact foo", "Unknown identifier `foo`")
    (target,) = scan_for_repairs(PATH, text, [err]).targets
    assert target.repair.original == " by\r\n  exact foo\r\n  rfl"
    assert prior_code(target) == "theorem tactic_proof (a : N) : Eq a a := by\n  exact foo\n  rfl"


# --- the prior turn -----------------------------------------------------------------------------------------------


def test_the_prior_turn_from_the_documents_messages():
    err = at(TEXT, "exact foo", "Unknown identifier `foo`")
    (target,) = scan_for_repairs(PATH, TEXT, [err]).targets
    prior = prior_turn(target)
    assert prior.code == "theorem tactic_proof (a : N) : Eq a a := by\n  exact foo\n  rfl"
    assert prior.verdict.outcome is Outcome.FAILED and prior.verdict.snippet == prior.code
    (m,) = prior.verdict.messages
    line = prior.code.split("\n")[m.span.start.line]
    assert line[m.span.start.col : m.span.end.col] == "exact foo"
    with pytest.raises(ValueError, match="not a repair target"):
        prior_turn(replace(target, repair=None))


def test_the_prior_turn_prefers_the_checkers_verdict_moved_onto_the_users_text():
    text = "theorem t (a : N) : Eq a a := by\n    exact foo\n    rfl\n"
    err = at(text, "exact foo", "Unknown identifier `foo`")
    (target,) = scan_for_repairs(PATH, text, [err]).targets
    code = prior_code(target)
    # The checker re-indents the proof two columns past the keyword (core/splice.py): its snippet differs.
    snippet = "theorem t (a : N) : Eq a a := by\n  exact foo\n  rfl"
    checked = Verdict(
        Outcome.FAILED,
        messages=(LeanMessage(E, Span(Pos(1, 2), Pos(1, 11)), "Unknown identifier `foo`"),),
        sorries=(SorryGoal(Span(Pos(2, 2), Pos(2, 5)), "⊢ Eq a a"),),
        elapsed=0.25,
        snippet=snippet,
    )
    prior = prior_turn(replace(target, repair=replace(target.repair, verdict=checked)))
    assert prior.code == code and prior.elapsed == 0.25
    (m,) = prior.verdict.messages
    assert code.split("\n")[1][m.span.start.col : m.span.end.col] == "exact foo"
    assert prior.verdict.sorries[0].span.start == Pos(2, 4)
    # Lines that don't correspond: the document's own messages are used instead.
    other = replace(checked, snippet="theorem t (a : N) : Eq a a := by exact foo; rfl")
    fallback = prior_turn(replace(target, repair=replace(target.repair, verdict=other)))
    assert fallback.verdict.messages == target.repair.messages


def test_rebase_verdict_undoes_the_checkers_name_for_an_example():
    code = "example (a : N) : Eq a a := foo"
    snippet = "theorem lean_copilot_audited_example (a : N) : Eq a a := foo"
    col = snippet.index("foo")
    v = Verdict(Outcome.FAILED, messages=(LeanMessage(E, Span(Pos(0, col), Pos(0, col + 3)), "Unknown"),),
                snippet=snippet)
    moved = rebase_verdict(v, code)
    assert moved is not None
    span = moved.messages[0].span
    assert code[span.start.col : span.end.col] == "foo"
    assert rebase_verdict(replace(v, snippet=code), code) == replace(v, snippet=code)


# --- transcript records ---------------------------------------------------------------------------------------------


def test_the_transcript_records_the_repairs_starting_point():
    from lean_copilot_py.core.events import SearchResult, SearchStatus

    err = at(TEXT, "exact foo", "Unknown identifier `foo`")
    (target,) = scan_for_repairs(PATH, TEXT, [err]).targets
    checked = Verdict(Outcome.FAILED, messages=target.repair.messages, reason="line 2: Unknown identifier `foo`")
    target = replace(target, repair=replace(target.repair, verdict=checked))
    result = SearchResult("s1", SearchStatus.FAILED, reason="no proof found")
    data = to_json(Transcript("s1", target), result)
    assert data["repair"]["original"] == target.repair.original
    assert data["repair"]["messages"][0] == {"severity": "error", "line": 1, "col": 2,
                                             "text": "Unknown identifier `foo`"}
    assert data["repair"]["checked"]["reason"] == checked.reason
    json.dumps(data)
    md = to_markdown(Transcript("s1", target), result)
    assert "## Repair: the proof in the file" in md and "exact foo" in md
    assert "- error at 2:2: Unknown identifier `foo`" in md
    plain = replace(target, kind=TargetKind.DECLARATION, repair=None)
    assert to_json(Transcript("s2", plain), result)["repair"] is None
    assert "## Repair" not in to_markdown(Transcript("s2", plain), result)


# --- real Lean ------------------------------------------------------------------------------------------------------


@pytest.fixture
def real_checker(real_lean, prelude_project):
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings

    return LeanChecker(prelude_project, LeanSettings(server_command=real_lean.server_command(), slots=1))


def _write(project: Path, name: str, text: str) -> Path:
    path = project / "Prelude" / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.real_lean
async def test_real_lean_a_broken_term_proof_is_found_and_repaired(real_checker, prelude_project):
    from tests.real_lean import prelude_file

    text = prelude_file(
        "theorem fine : Eq N.one N.one := Eq.refl",
        "theorem broken (a : N) : Eq (N.add a N.z) a := N.z",
        "theorem after : Eq N.two N.two := Eq.refl",
    )
    path = _write(prelude_project, "Broken.lean", text)
    try:
        document = await real_checker.check_document(path, text)
        assert document.outcome is Outcome.FAILED
        scan = scan_for_repairs(path, text, document.messages)
        assert scan.import_problem is None and scan.unrepairable == ()
        (target,) = scan.targets
        assert target.decl_name == "broken" and target.repair.original == " N.z"
        assert any(m.text.startswith("Type mismatch") for m in target.repair.errors)
        # The user's proof checked under the pinned statement: the checker's messages land where the document's do.
        checked = await real_checker.check(target, Candidate(target.repair.original))
        assert checked.outcome is Outcome.FAILED
        prior = prior_turn(replace(target, repair=replace(target.repair, verdict=checked)))
        mismatch = next(m for m in prior.verdict.messages if m.text.startswith("Type mismatch"))
        doc_mismatch = next(m for m in target.repair.errors if m.text.startswith("Type mismatch"))
        assert mismatch.span == doc_mismatch.span
        assert prior.code.split("\n")[0][mismatch.span.start.col : mismatch.span.end.col] == "N.z"
        # A repair is verified like any declaration's proof, and the repaired file elaborates.
        repaired = Candidate("Eq.refl")
        assert (await real_checker.check(target, repaired)).outcome is Outcome.PROVED
        fixed = spliced_document(target, repaired)
        assert "theorem broken (a : N) : Eq (N.add a N.z) a := Eq.refl" in fixed
        after = await real_checker.check_document(path, fixed)
        assert after.outcome is Outcome.PROVED, after.reason
        assert scan_for_repairs(path, fixed, after.messages).clean
    finally:
        await real_checker.aclose()


@pytest.mark.real_lean
async def test_real_lean_statement_and_parse_errors(real_checker, prelude_project):
    from tests.real_lean import prelude_file

    text = prelude_file(
        "theorem bad_stmt (a : N) : Eq (N.add a N.bogus) a := Eq.refl",
        "theorem unclosed (a : N) : Eq (N.add a N.z) a := (Eq.refl",
        "theorem after : Eq N.two N.two := Eq.refl",
        "#check N.zz",
    )
    path = _write(prelude_project, "Stmt.lean", text)
    try:
        document = await real_checker.check_document(path, text)
        scan = scan_for_repairs(path, text, document.messages)
        assert [t.decl_name for t in scan.targets] == ["unclosed"]
        assert [u.decl_name for u in scan.unrepairable] == ["bad_stmt", ""]
        assert "N.bogus" in scan.unrepairable[0].reason and "statement" in scan.unrepairable[0].reason
        assert "N.zz" in scan.unrepairable[1].reason
        (parse_error,) = scan.targets[0].repair.errors
        assert parse_error.text.startswith("unexpected token 'theorem'")
    finally:
        await real_checker.aclose()


@pytest.mark.real_lean
async def test_real_lean_a_missing_import_is_reported_not_repaired(real_checker, prelude_project):
    text = "prelude\nimport Nonexistent.Module\n\ntheorem x : Eq N.one N.one := N.z\n"
    path = _write(prelude_project, "Imports.lean", text)
    try:
        document = await real_checker.check_document(path, text)
        scan = scan_for_repairs(path, text, document.messages)
        assert scan.targets == () and scan.unrepairable == ()
        assert scan.import_problem is not None and "unknown module prefix 'Nonexistent'" in scan.import_problem
    finally:
        await real_checker.aclose()


@pytest.mark.real_lean
async def test_real_lean_an_unbuilt_dependency_is_reported(real_lean, tmp_path):
    from lean_copilot_py.lean import LeanChecker
    from lean_copilot_py.settings import LeanSettings
    from tests.kimina_server import BUILD, build_kimina_project

    project = build_kimina_project(tmp_path / "built", real_lean)
    command = ["env", f"LEAN_PATH={project / BUILD}", str(real_lean.lean), "--server"]
    checker = LeanChecker(project, LeanSettings(server_command=command, slots=1))
    text = "import Prelude.Basic\nimport Prelude.Missing\n\ntheorem x : Eq N.one N.one := N.z\n"
    path = _write(project, "Dep.lean", text)
    try:
        document = await checker.check_document(path, text)
        scan = scan_for_repairs(path, text, document.messages)
        assert scan.targets == ()
        assert scan.import_problem is not None
        assert "of module Prelude.Missing does not exist" in scan.import_problem
        # Once the import is there, the same declaration is a repair target.
        good = text.replace("import Prelude.Missing\n", "")
        document = await checker.check_document(path, good)
        (target,) = scan_for_repairs(path, good, document.messages).targets
        assert target.decl_name == "x"
    finally:
        await checker.aclose()
