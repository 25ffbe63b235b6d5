"""What leanCopilot.repair repairs: the declaration at the cursor, when Lean's errors (those the editor sent, and
those our own check found for this very text) lie in its proof; else one line saying why not (no error there, an
error in the statement, the imports failed). Never runs Lean: the search checks the user's proof itself."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.repair import import_problem, repair_target_at, scan_for_repairs
from ..core.targets import enclosing_declaration
from ..core.types import LeanMessage, Pos, Target
from .diagnostics import editor_errors, from_json
from .indexing import DocumentIndex

if TYPE_CHECKING:
    from .app import CopilotServer


def known_errors(server: CopilotServer, uri: str, index: DocumentIndex, raw_diagnostics: Any) -> list[LeanMessage]:
    messages = editor_errors(from_json(raw_diagnostics), index.lines)
    messages.extend(server.checks.errors_for(uri, index.text))
    return messages


def find_repair(
    server: CopilotServer, uri: str, index: DocumentIndex, pos: Pos, raw_diagnostics: Any
) -> Target | str:
    messages = known_errors(server, uri, index, raw_diagnostics)
    target = repair_target_at(index.path, index.text, pos, messages, o=index.outline)
    if target is not None:
        return target
    return why_not(server, uri, index, pos, messages)


def why_not(server: CopilotServer, uri: str, index: DocumentIndex, pos: Pos, messages: list[LeanMessage]) -> str:
    decl = enclosing_declaration(index.path, index.text, pos, o=index.outline)
    where = f"line {pos.line + 1}"
    if decl is None:
        return f"lean-copilot: no declaration with a proof to repair at {where}"
    name = f"`{decl.decl_name}`" if decl.decl_name else "this declaration"
    problem = import_problem(index.text, messages, o=index.outline)
    if problem is not None:
        return f"lean-copilot: not repairing {name}: the file's imports failed ({problem}); fix them first"
    scan = scan_for_repairs(index.path, index.text, messages, o=index.outline)
    for bad in scan.unrepairable:
        if decl.decl_span.start <= bad.span.start <= decl.decl_span.end:
            return f"lean-copilot: not repairing {name}: {bad.reason}"
    checked = server.checks.checked(uri)
    if not messages and (checked is None or checked.text != index.text):
        hint = "" if server.settings.server.check_documents else " (or set server.check_documents)"
        return (f"lean-copilot: no Lean errors known for {name}: the editor sent none and the server has not "
                f"checked this text{hint}")
    return f"lean-copilot: Lean reports no error in the proof of {name}; nothing to repair"
