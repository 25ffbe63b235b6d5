"""The `#print axioms` audit: parse Lean's answer and decide whether the axioms are acceptable.

The answer is trusted only when it is the info message Lean logs *at the audit command we appended*
(the caller matches by position); the text alone proves nothing, since a proof can print the same
words with `trace`/`logInfo`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass

from ..settings import LeanSettings

SORRY_AXIOM = "sorryAx"
NATIVE_AXIOMS = ("Lean.ofReduceBool", "Lean.ofReduceNat")

_QUOTED = r"(?:'(?P<q1>[^']*)'|`(?P<q2>[^`]*)`|(?P<bare>\S+))"
_DEPENDS_RE = re.compile(_QUOTED + r"\s+depends\s+on\s+axioms\s*:\s*\[(?P<axioms>[^\]]*)\]", re.I | re.S)
_NONE_RE = re.compile(_QUOTED + r"\s+does\s+not\s+depend\s+on\s+any\s+axioms", re.I)


@dataclass(frozen=True)
class AuditAnswer:
    name: str
    axioms: tuple[str, ...]


def parse_axioms_answer(text: str) -> AuditAnswer | None:
    """Both of Lean's forms, '…' or `…` quoting, any case; None when the text is neither."""
    m = _NONE_RE.search(text)
    if m:
        return AuditAnswer(_name(m), ())
    m = _DEPENDS_RE.search(text)
    if m:
        axioms = tuple(a.strip() for a in re.split(r"[,\s]+", m.group("axioms")) if a.strip())
        return AuditAnswer(_name(m), axioms)
    return None


def _name(m: re.Match[str]) -> str:
    return m.group("q1") or m.group("q2") or m.group("bare") or ""


def allowed_axioms(settings: LeanSettings) -> frozenset[str]:
    allowed = set(settings.allowed_axioms)
    if settings.allow_native_decide:
        allowed.update(NATIVE_AXIOMS)
    return frozenset(allowed)


class AuditResult(enum.StrEnum):
    OK = "ok"
    SORRY = "sorry"  # depends on sorryAx: the proof is incomplete
    DISALLOWED = "disallowed"
    MISSING = "missing"


@dataclass(frozen=True)
class AuditDecision:
    result: AuditResult
    reason: str = ""


def judge_axioms(axioms: Iterable[str] | None, allowed: frozenset[str], *, tolerate_sorry: bool) -> AuditDecision:
    if axioms is None:
        return AuditDecision(AuditResult.MISSING, "no `#print axioms` answer from Lean: not proved")
    axioms = tuple(axioms)
    bad = [a for a in axioms if a not in allowed and a != SORRY_AXIOM]
    if bad:
        return AuditDecision(AuditResult.DISALLOWED, f"uses disallowed axioms: {', '.join(bad)}")
    if SORRY_AXIOM in axioms and not tolerate_sorry:
        return AuditDecision(AuditResult.SORRY, "depends on `sorryAx`")
    return AuditDecision(AuditResult.OK)
