"""Just enough of Lean's text for the fake server (fake_lean.py) to give scripted answers:
LSP positions (UTF-16 columns, as Lean counts them), the commands of a document, declarations and their
parts, and a declaration's goal as Lean would print it (roughly)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# --- positions --------------------------------------------------------------------------------


def offset_to_lc(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset)
    return line, offset - (text.rfind("\n", 0, offset) + 1)


def to_utf16(line: str, col: int) -> int:
    return sum(2 if ord(ch) > 0xFFFF else 1 for ch in line[:col])


def from_utf16(line: str, units: int) -> int:
    count = 0
    for i, ch in enumerate(line):
        if count >= units:
            return i
        count += 2 if ord(ch) > 0xFFFF else 1
    return len(line)


def lsp_pos(text: str, offset: int) -> dict[str, int]:
    line, col = offset_to_lc(text, offset)
    lines = text.split("\n")
    return {"line": line, "character": to_utf16(lines[line] if line < len(lines) else "", col)}


def lsp_range(text: str, start: int, end: int) -> dict[str, Any]:
    return {"start": lsp_pos(text, start), "end": lsp_pos(text, end)}


def offset_of(text: str, pos: dict[str, int]) -> int:
    lines = text.split("\n")
    line = min(max(pos.get("line", 0), 0), len(lines))
    start = sum(len(ln) + 1 for ln in lines[:line])
    if line >= len(lines):
        return len(text)
    return start + from_utf16(lines[line], pos.get("character", 0))


# --- reading Lean text (just enough structure for scripted answers) -----------------------------

DECL_KEYWORDS = ("theorem", "lemma", "def", "example", "abbrev", "instance", "structure", "inductive", "class")
MODIFIERS = ("private", "protected", "noncomputable", "unsafe", "partial", "nonrec", "@[")
CONTINUATION = ("termination_by", "decreasing_by", "where", "|", "deriving")
DECL_RE = re.compile(
    r"(?:/--.*?-/\s*)?(?:@\[[^\]]*\]\s*)*(?:(?:private|protected|noncomputable|unsafe|partial|nonrec)\s+)*"
    r"(" + "|".join(DECL_KEYWORDS) + r")\b",
    re.S,
)
HEADER_RE = re.compile(r"^\s*(?:(?:public|meta|private)\s+)*(?:import\s|prelude\b|module\b)")


@dataclass
class Decl:
    kind: str
    name: str
    full_name: str
    start: int  # command start (modifiers included)
    end: int  # end of the command's last non-blank character
    keyword: tuple[int, int]
    name_span: tuple[int, int]
    signature: str  # between the name and `:=`
    body_start: int  # just after `:=`, -1 when there is none
    by_span: tuple[int, int] | None


@dataclass
class Command:
    start: int
    end: int
    text: str
    decl: Decl | None = None
    audit_of: str | None = None  # `#print axioms X`
    namespace: str = ""


def header_end(text: str) -> int:
    """Offset just past the import header (leading import / blank / comment lines)."""
    offset, end = 0, 0
    for line in text.split("\n"):
        stripped = line.strip()
        nxt = offset + len(line) + 1
        if HEADER_RE.match(line):
            end = min(nxt, len(text))
        elif stripped and not stripped.startswith("--"):
            break
        offset = nxt
    return end


def _is_command_start(line: str, in_decl: bool) -> bool:
    stripped = line.lstrip()
    if not stripped or stripped.startswith("--"):
        return False
    if line[0] not in " \t":
        return not stripped.startswith(CONTINUATION)
    # Declarations are sometimes indented inside namespaces; tactic lines never start with these words.
    first = stripped.split(None, 1)[0]
    return first in DECL_KEYWORDS or first in MODIFIERS[:-1] or stripped.startswith("@[")


def split_commands(text: str) -> list[Command]:
    start = header_end(text)
    starts: list[int] = []
    offset, in_block = start, False
    for line in text[start:].split("\n"):
        if in_block:
            in_block = "-/" not in line
        elif _is_command_start(line, bool(starts)):
            starts.append(offset)
            in_block = line.lstrip().startswith("/-") and "-/" not in line
        offset += len(line) + 1
    commands: list[Command] = []
    pending: int | None = None  # attributes / doc comments merge into the next command
    for i, s in enumerate(starts):
        e = starts[i + 1] if i + 1 < len(starts) else len(text)
        chunk = text[s:e].rstrip()
        # Doc comments (`/--`) and attributes belong to the next command; a module doc (`/-!`) and plain
        # comments stand alone, as in Lean.
        only_prefix = (chunk.startswith("/--") and chunk.endswith("-/")) or re.fullmatch(r"@\[[^\n]*\]", chunk)
        if chunk.startswith("/-") and chunk.endswith("-/") and not only_prefix:
            continue
        if only_prefix:
            pending = s if pending is None else pending
            continue
        s0 = pending if pending is not None else s
        pending = None
        commands.append(Command(s0, s0 + len(text[s0:e].rstrip()), text[s0:e].rstrip()))
    return commands


def _find_top_level_assign(text: str, start: int, end: int) -> int:
    depth = 0
    for i in range(start, end - 1):
        ch = text[i]
        if ch in "([{⦃⟨":
            depth += 1
        elif ch in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and text.startswith(":=", i):
            return i
    return -1


def parse_decl(text: str, cmd: Command, namespace: str) -> Decl | None:
    m = DECL_RE.match(text, cmd.start)
    if m is None:
        return None
    kind = m.group(1)
    nm = re.compile(r"\s+([^\s(\[{:⦃]+)").match(text, m.end())
    if kind in ("example",) or nm is None or nm.group(1) in (":=",):
        name, name_span, after = "_example" if kind == "example" else "_instance", m.span(1), m.end()
    else:
        name, name_span, after = nm.group(1), nm.span(1), nm.end()
    assign = _find_top_level_assign(text, after, cmd.end)
    body_start = assign + 2 if assign >= 0 else -1
    signature = text[after:assign] if assign >= 0 else text[after : cmd.end]
    by_span = None
    if body_start >= 0:
        bm = re.compile(r"\s*(by)\b").match(text, body_start)
        if bm:
            by_span = bm.span(1)
    if name.startswith("_root_."):
        full = name[len("_root_.") :]
    else:
        full = f"{namespace}.{name}" if namespace else name
    return Decl(kind, name, full, cmd.start, cmd.end, m.span(1), name_span, signature, body_start, by_span)


def analyse(text: str) -> list[Command]:
    namespaces: list[str] = []
    commands = split_commands(text)
    for cmd in commands:
        ns = ".".join(namespaces)
        cmd.namespace = ns
        head = cmd.text.split(None, 2)
        if head[:1] == ["namespace"] and len(head) > 1:
            namespaces.extend(head[1].split("."))
        elif head[:1] == ["end"] and len(head) > 1 and namespaces:
            for _ in head[1].split("."):
                if namespaces:
                    namespaces.pop()
        elif cmd.text.startswith("#print axioms"):
            cmd.audit_of = cmd.text[len("#print axioms") :].strip()
        else:
            cmd.decl = parse_decl(text, cmd, ns)
    return commands


def _split_top(s: str, sep: str) -> int:
    depth = 0
    for i, ch in enumerate(s):
        if ch in "([{⦃⟨":
            depth += 1
        elif ch in ")]}⦄⟩":
            depth -= 1
        elif depth == 0 and ch == sep:
            return i
    return -1


def derive_goal(signature: str) -> str:
    """`(n : Nat) {α} [inst : Foo α] : T` -> "n : Nat\\n...\\n⊢ T" (roughly how Lean prints it)."""
    sig = " ".join(signature.split())
    hyps: list[str] = []
    while sig and sig[0] in "([{⦃":
        close = {"(": ")", "[": "]", "{": "}", "⦃": "⦄"}[sig[0]]
        depth, j = 0, 0
        for i, ch in enumerate(sig):
            depth += ch in "([{⦃"
            depth -= ch in ")]}⦄"
            if depth == 0:
                j = i
                break
        inner = sig[1:j]
        if ":" in inner:
            hyps.append(" ".join(inner.split(":", 1)[0].split()) + " : " + inner.split(":", 1)[1].strip())
        elif close == "]":
            hyps.append(f"inst✝ : {inner.strip()}")
        else:
            hyps.append(f"{inner.strip()} : Sort u_1")
        sig = sig[j + 1 :].strip()
    colon = _split_top(sig, ":")
    target = sig[colon + 1 :].strip() if colon >= 0 else "True"
    return "\n".join([*hyps, f"⊢ {field_notation(target, hyps)}"])


def field_notation(term: str, hyps: list[str]) -> str:
    """Lean prints `T.f x …` as `x.f …` when ``x`` has type `T` (pp.fieldNotation): `N.add a N.z` with
    `a : N` is `a.add N.z`. Only hypotheses' types are known here, so only those arguments are rewritten."""
    for hyp in hyps:
        names, _, typ = hyp.partition(" : ")
        if not re.fullmatch(r"[\w.']+", typ.strip()):
            continue
        for var in names.split():
            pattern = rf"(?<![\w.']){re.escape(typ.strip())}\.([\w']+) {re.escape(var)}(?![\w.'])"
            term = re.sub(pattern, lambda m, v=var: f"{v}.{m.group(1)}", term)
    return term


TERM = re.compile(r"[@\w.'?!]+")


def term_span(text: str, off: int) -> tuple[int, int]:
    """The term under ``off``: what Lean's plainTermGoal range covers (a zero-width range off any word)."""
    line_start = text.rfind("\n", 0, off) + 1
    line_end = text.find("\n", off)
    line = text[line_start : len(text) if line_end < 0 else line_end]
    for m in TERM.finditer(line):
        if m.start() <= off - line_start <= m.end():
            return line_start + m.start(), line_start + m.end()
    return off, off
