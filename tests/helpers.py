"""Helpers every test package shares: one way to build a Target from text, one way to load settings layers."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from lean_copilot_py.core.outline import outline
from lean_copilot_py.core.targets import enclosing_declaration, sorry_at
from lean_copilot_py.core.types import Span, Target, TargetKind
from lean_copilot_py.settings import LoadedSettings, load_settings


def load_layers(tmp_path: Path, *, user: str = "", project: str = "", env: dict[str, str] | None = None,
                editor: Any = None) -> LoadedSettings:
    """``load_settings`` on ``tmp_path/proj`` with only the layers given: ``user`` as the user's config file
    (tmp_path/user.toml), ``project`` as the project's .lean-copilot.toml, ``env`` as the whole environment."""
    user_file = tmp_path / "user.toml"
    if user:
        user_file.write_text(user)
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    if project:
        (root / ".lean-copilot.toml").write_text(project)
    return load_settings(root, environ=env or {}, editor_options=editor, user_file=user_file)


STATEMENT = "theorem foo (n : Nat) : n + 0 = n"
DOC = f"import Mathlib\n\n{STATEMENT} := by\n  sorry\n"  # the search core's one-theorem document
PATH = Path("/tmp/proj/Foo.lean")


def make_target(text: str = DOC, name: str | None = None, *, kind: TargetKind = TargetKind.DECLARATION,
                path: Path = PATH, full_name: str | None = None, goal: str | None = None) -> Target:
    """The target of declaration ``name`` (default: the first declaration; an unnamed one, `example` or an anonymous
    `instance`, by its keyword) of ``text``, as core/targets.py reads it
    (spans, header, namespace-qualified name): for a DECLARATION its whole proof, whatever that proof is; for a
    SORRY the declaration's first `sorry`, the others counted as other sorries. A `sorry` that is the whole proof
    is a DECLARATION target to the finder; asked for as a SORRY it is still that token. ``full_name`` and ``goal``
    override what the finder says (a test of a wrong name, a goal as if read from Lean)."""
    o = outline(text)
    decl = next((d for d in o.decls if name in (None, d.name or d.keyword)), None)
    assert decl is not None, f"no declaration {name!r} in the text"
    target = enclosing_declaration(path, text, o.lines.pos(decl.keyword_start), o=o)
    assert target is not None, f"declaration {name!r} has no `:=`"
    if kind is TargetKind.SORRY:
        assert decl.sorries, f"declaration {name!r} has no sorry"
        first = o.tokens[decl.sorries[0]]
        found = sorry_at(path, text, o.lines.pos(first.start), o=o)
        if found is not None and found.kind is TargetKind.SORRY:
            target = found
        else:  # the whole proof: the finder's DECLARATION target, narrowed to the token
            target = dataclasses.replace(target, kind=TargetKind.SORRY, other_sorries=len(decl.sorries) - 1,
                                         proof_span=Span(o.lines.pos(first.start), o.lines.pos(first.end)))
    return dataclasses.replace(target, full_name=full_name or target.full_name, goal=goal)
