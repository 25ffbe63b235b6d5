"""Plain data that crosses the seams: targets, candidates, verdicts, generation requests.

Positions everywhere in the core are 0-based lines and *code-point* columns (Python string
indices). UTF-16 conversion happens only at the LSP boundaries (server/ and leanclient).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, order=True)
class Pos:
    line: int
    col: int


@dataclass(frozen=True)
class Span:
    start: Pos
    end: Pos

    def shifted(self, lines: int) -> Span:
        return Span(Pos(self.start.line + lines, self.start.col), Pos(self.end.line + lines, self.end.col))


def offset_to_pos(text: str, offset: int) -> Pos:
    """Code-point offset into ``text`` -> (line, col). Lines split on ``\\n`` only (CRLF keeps ``\\r`` in col)."""
    offset = max(0, min(offset, len(text)))
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return Pos(line, offset - line_start)


def pos_to_offset(text: str, pos: Pos) -> int:
    """(line, col) -> code-point offset, clamped to the line's end and the text's end."""
    start = 0
    for _ in range(pos.line):
        nxt = text.find("\n", start)
        if nxt < 0:
            return len(text)
        start = nxt + 1
    end = text.find("\n", start)
    if end < 0:
        end = len(text)
    return min(start + max(0, pos.col), end)


class TargetKind(enum.StrEnum):
    DECLARATION = "declaration"  # the whole proof after `:=` of a declaration
    SORRY = "sorry"  # one `sorry` token (tactic or term position)
    CURSOR = "cursor"  # an insertion point inside a tactic proof (next-tactic suggestions)


@dataclass(frozen=True)
class Target:
    """One thing to prove, read from a snapshot of a document's text.

    ``proof_span`` is exactly the range a verified candidate replaces: everything after ``:=`` for a
    DECLARATION (the ``:=`` itself stays), the ``sorry`` token for a SORRY.
    """

    path: Path
    text: str
    kind: TargetKind
    decl_name: str  # as written in the file (may be relative to open namespaces)
    full_name: str  # namespace-qualified, as `#print axioms` prints it
    decl_span: Span  # from the first modifier/keyword to the end of the declaration
    header: str  # the declaration's text from its start up to and including `:=`
    proof_span: Span
    indent: int  # column of the declaration keyword, for re-indenting multi-line proofs
    version: int | None = None  # editor document version the text belongs to
    goal: str | None = None  # pretty-printed goal(s) once read from Lean
    other_sorries: int = 0  # sorries in the same declaration outside proof_span
    repair: RepairContext | None = None  # set on a repair target (a DECLARATION whose proof Lean rejects)

    @property
    def statement(self) -> str:
        """The declaration header without the trailing `:=`, e.g. `theorem foo (n : Nat) : n = n`."""
        return self.header[: self.header.rfind(":=")].rstrip()

    @property
    def prefix(self) -> str:
        """Document text before the declaration (imports, opens, earlier declarations)."""
        return self.text[: pos_to_offset(self.text, self.decl_span.start)]

    def key(self) -> str:
        return f"{self.path}:{self.proof_span.start.line}:{self.proof_span.start.col}:{self.kind.value}"


@dataclass(frozen=True)
class Candidate:
    """A proof to try for a Target.

    ``proof`` replaces ``target.proof_span`` verbatim (for a DECLARATION typically ``by\\n  simp``; for a
    SORRY a tactic sequence or term). ``helpers`` are extra declarations (lemmas the model wrote) that
    go right before the target declaration.
    """

    proof: str
    helpers: str = ""
    origin: str = ""  # "automation:omega", "model:attempt-3:turn-2", ...


class Severity(enum.IntEnum):
    ERROR = 1
    WARNING = 2
    INFORMATION = 3
    HINT = 4


@dataclass(frozen=True)
class LeanMessage:
    severity: Severity
    span: Span  # relative to the checked snippet: line 0 is the snippet's first line
    text: str
    unsolved_goals: bool = False  # leanTags contains 1


@dataclass(frozen=True)
class SorryGoal:
    span: Span  # relative like LeanMessage.span
    goal: str


class Outcome(enum.StrEnum):
    PROVED = "proved"
    INCOMPLETE = "incomplete"  # unsolved goals or sorry, no other error
    FAILED = "failed"  # errors, a refused statement, a failed axiom audit
    TIMEOUT = "timeout"
    CRASHED = "crashed"
    REFUSED = "refused"  # screening refused it before Lean saw it


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    messages: tuple[LeanMessage, ...] = ()
    goals: tuple[str, ...] = ()  # goals left open (from `unsolved goals` errors)
    sorries: tuple[SorryGoal, ...] = ()
    axioms: tuple[str, ...] | None = None  # from the audit; None = no audit answer
    reason: str = ""  # one line for humans
    elapsed: float = 0.0
    snippet: str = ""  # the checked text that message positions are relative to

    @property
    def proved(self) -> bool:
        return self.outcome is Outcome.PROVED


def refusal_verdict(reason: str, text: str = "", offsets: Sequence[tuple[int, str]] = ()) -> Verdict:
    """A REFUSED verdict whose messages look like Lean errors, so a family renders them as feedback."""
    msgs = []
    for offset, message in offsets or ((0, reason),):
        p = offset_to_pos(text, offset) if text else Pos(0, 0)
        msgs.append(LeanMessage(Severity.ERROR, Span(p, p), message))
    return Verdict(Outcome.REFUSED, messages=tuple(msgs), reason=reason, snippet=text)


@dataclass(frozen=True)
class RepairContext:
    """What a repair target carries besides its place: the user's failing proof and what Lean said about it.

    ``messages`` are Lean's messages inside the declaration (errors first among them), with positions relative
    to the declaration's first line, as a Verdict's are to its snippet. ``verdict``: Lean's verdict of the
    user's own proof once a search has checked it under the pinned statement (snippet-relative)."""

    original: str  # exactly the text of the target's proof_span
    messages: tuple[LeanMessage, ...] = ()
    verdict: Verdict | None = None

    @property
    def errors(self) -> tuple[LeanMessage, ...]:
        return tuple(m for m in self.messages if m.severity is Severity.ERROR)


@dataclass(frozen=True)
class Finding:
    """Why screening refuses a candidate (empty list of findings = admissible)."""

    rule: str  # e.g. "#eval", "sorry", "set_option"
    message: str
    offset: int  # code-point offset of the offending token in the screened text

    def pos(self, text: str) -> Pos:
        return offset_to_pos(text, self.offset)


# --- generation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Sampling:
    temperature: float = 0.999
    top_p: float = 0.95
    max_tokens: int = 16384
    stop: tuple[str, ...] = ()
    stop_token_ids: tuple[int, ...] = ()
    seed: int | None = None


@dataclass(frozen=True)
class GenerationRequest:
    """A completion request. Send ``prompt_ids`` when known (prefix-cache hits); ``prompt_text`` is the
    same prompt as text, used by servers that take no ids. ``session`` lets a backend keep per-attempt
    state (the transformers backend keeps its KV cache per session)."""

    prompt_text: str
    prompt_ids: tuple[int, ...] | None
    sampling: Sampling
    session: str = ""


class FinishReason(enum.StrEnum):
    STOP = "stop"  # a stop string / stop token / end of sequence
    LENGTH = "length"  # max_tokens reached
    ABORTED = "aborted"  # cancelled by us
    ERROR = "error"  # the backend failed (message in GenerationChunk.error)


@dataclass(frozen=True)
class GenerationChunk:
    """A piece of streamed output. The last chunk of a stream carries ``finish_reason``."""

    text: str = ""
    token_ids: tuple[int, ...] = ()
    finish_reason: FinishReason | None = None
    stop_reason: str | int | None = None  # matched stop string or token id; None at EOS
    error: str = ""


@dataclass
class GenerationStats:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_prompt_tokens: int | None = None
    seconds: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)
