"""The seams the core talks through. lean/ implements Checker; models/ implements Generator,
Tokenizer and PromptFamily. The core imports neither package."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from .types import Candidate, GenerationChunk, GenerationRequest, Pos, Sampling, Target, Verdict


@dataclass
class CheckPriority:
    """How much a check matters when Lean slots are scarce; lean/pool.py orders its queue by it.

    Best first: final answers and final verifications (a proof is one check away), then sketches of later turns
    (an attempt that has read feedback is nearer a proof than one still on its first guess), then a fair share
    per ``owner`` (an attempt with checks already queued or running yields to one with none), then arrival.
    Mutable on purpose: a check shared by several waiters (core/sharing.py) carries the best priority of those
    still waiting, raised in place when a more urgent one joins while it is queued."""

    final: bool = False
    turn: int = 0  # the sketch's turn in its attempt (0 = the first guess)
    owner: str = ""  # who asks: a search's attempt, its automation, a verification

    def rank(self) -> tuple[int, int]:
        """Lower is more urgent (fair share and arrival order are the queue's business)."""
        return (0 if self.final else 1, -self.turn)

    def adopt(self, other: CheckPriority) -> None:
        self.final, self.turn, self.owner = other.final, other.turn, other.owner


class CheckFn(Protocol):
    """A check of one candidate bound to its target (what attempts and automation call); the priority
    (optional) orders it among checks waiting for Lean."""

    def __call__(self, candidate: Candidate, priority: CheckPriority | None = None, /) -> Awaitable[Verdict]: ...


@runtime_checkable
class Checker(Protocol):
    """Lean, seen from the core. Never writes the user's files.

    A checker whose environment can change under it (imports rebuilt, the server restarted, project files
    edited) may also expose an ``environment_epoch: int`` that changes whenever that happens: core/sharing.py
    forgets what it memoised then. One without it is taken to keep its environment for its lifetime."""

    async def goals_at(self, path: Path, text: str, pos: Pos) -> list[str] | None:
        """Goals at ``pos`` of ``text`` (a document of the project at ``path``), after the
        elaboration barrier. ``None`` when there is no proof state there; ``[]`` when no goals remain."""
        ...

    async def check(
        self,
        target: Target,
        candidate: Candidate,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a per-check budget the checker enforces itself
        priority: CheckPriority | None = None,
    ) -> Verdict:
        """Check ``candidate`` under ``target``'s original header. Screening is the caller's job. ``timeout``
        counts Lean's own work (not a wait for a free slot); ``priority`` orders the wait (None: an ordinary
        first-turn check). Cancelling the call ends the Lean work it started."""
        ...

    async def check_document(
        self,
        path: Path,
        text: str,
        *,
        timeout: float | None = None,  # noqa: ASYNC109 - a budget the checker enforces itself
    ) -> Verdict:
        """Elaborate a whole document as it would be saved (batch mode, before writing a file): PROVED when it has
        no error and no `sorry`; message positions are the document's own."""
        ...

    async def aclose(self) -> None: ...


class Tokenizer(Protocol):
    """The model's tokenizer. Its methods may block: a local one computes, the model server's own (vLLM's /tokenize,
    for a remote endpoint with no local model files) makes an HTTP round trip. The core calls them, and the family
    methods that use them, off the event loop.

    ``exact_ids`` is False for a stand-in without the model's vocabulary (a server that can't tokenize): prompts and
    continuations then go as text, and ``encode`` returns placeholder ids that only estimate the token count."""

    eos_token_ids: Sequence[int]
    exact_ids: bool

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` with no special tokens added."""
        ...

    def decode(self, ids: Sequence[int]) -> str: ...

    def token_id(self, token: str) -> int | None:
        """The id of a single (special) token such as ``</sketch>``, or None if the vocabulary lacks it."""
        ...

    def chat_prompt(self, messages: Sequence[dict[str, str]]) -> str:
        """The chat template applied with a generation prompt, as text."""
        ...


class Generator(Protocol):
    """A model backend: streams a completion for a (possibly already templated) prompt."""

    tokenizer: Tokenizer

    def stream(self, request: GenerationRequest) -> AsyncIterator[GenerationChunk]:
        """Stream chunks; the last one carries finish_reason. Cancelling the consumer (or calling
        ``aclose()`` on the iterator) stops the underlying request."""
        ...

    async def aclose(self) -> None: ...


@dataclass(frozen=True)
class PriorTurn:
    """A turn the model is shown as its own before it writes anything: the user's failing declaration and Lean's
    verdict of it (a repair starts from there rather than from scratch). ``verdict`` positions are relative to
    ``code``, as a checked sketch's are to its snippet."""

    code: str  # the declaration as the model would have written it: header and the failing proof
    verdict: Verdict
    elapsed: float = 0.0  # how long Lean took (what a timeout message reports)


@dataclass(frozen=True)
class Problem:
    """What a prompt family turns into a prompt: the file context and the statement to prove."""

    header: str  # imports, opens, helper context the model needs
    statement: str  # e.g. `theorem foo (n : Nat) : n + 0 = n := by`
    goal: str | None = None  # pretty-printed goal, when known
    prior: PriorTurn | None = None  # a repair: the failing proof, rendered in the family's own feedback format


@dataclass(frozen=True)
class Turn:
    """What the attempt loop learns after one generation call."""

    sketch: str | None  # text between <sketch> and </sketch>, when the family uses sketches
    final: str | None  # the final Lean code, when the output has ended


class PromptFamily(Protocol):
    name: str
    uses_feedback: bool  # False: whole-proof families (pass@k), no REPL turns

    def sampling(self, tokenizer: Tokenizer) -> Sampling:
        """Default sampling for this family, stop strings and stop token ids resolved."""
        ...

    def initial_prompt(self, problem: Problem, tokenizer: Tokenizer) -> str:
        """The full templated prompt text the model continues; with ``problem.prior``, the prior turn rendered in the
        family's own format (the model then repairs rather than starts over)."""
        ...

    def parse(self, output: str, finished: bool) -> Turn:
        """Read the model's output so far: the sketch just closed, or the final code at the end."""
        ...

    def render_feedback(self, verdict: Verdict, elapsed: float, turn: int) -> str:
        """Text appended to the conversation after a checked sketch (or proof), ready to continue."""
        ...
