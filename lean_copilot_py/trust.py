"""Which settings a project's own `.lean-copilot.toml` may set.

A cloned repository writes that file, so opening it must not run a program it names, send the user's
keys or code where it says, or write files where it says. Keys that can do any of that are privileged:
they are honoured from the user's own layers (~/.config/lean-copilot/config.toml, the environment, the
editor's options) always, and from a project's file only when the user trusts that project. Every other
key is one a project may set: it changes how hard we search or what the project accepts as proved, never
what runs or where anything goes (README's "Trust" section reviews each key).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

Role = Literal["user", "project", "environment", "editor"]

PRIVILEGED_KEYS = frozenset({
    "lean.server_command",  # the program started to check proofs
    "vllm.command",  # the program started to serve the model
    "vllm.extra_args",  # vLLM flags run code (`--trust-remote-code`) and read files (`--config`)
    "model.endpoint",  # receives model.api_key and the user's code
    "model.api_key",  # a project's key replacing the user's is still a credential routed by a stranger
    "kimina.enabled",  # sends the user's code to kimina.url instead of a local Lean
    "kimina.url",
    "kimina.api_key",
})
# Every key of these sections: where we write files (and prune transcripts, which deletes them).
PRIVILEGED_SECTIONS = frozenset({"paths"})


def is_privileged(section: str, key: str) -> bool:
    return section in PRIVILEGED_SECTIONS or f"{section}.{key}" in PRIVILEGED_KEYS


def refusal(role: Role, section: str, key: str) -> str | None:
    """Why the `trust` section's ``key`` is not taken from this layer (None: it is)."""
    if section != "trust":
        return None
    if key == "projects" and role not in ("user", "environment"):
        return "ignored: trust.projects is read only from your own config file and the environment"
    if key == "workspace" and role != "editor":
        return "ignored: trust.workspace is set only by the editor (VS Code's workspace trust)"
    return None


def _resolved(path: Path) -> Path:
    try:
        return path.expanduser().resolve()
    except (OSError, RuntimeError):  # a symlink loop: compare as written
        return path.expanduser().absolute()


def listed(root: Path, folders: Sequence[Path]) -> Path | None:
    """The entry of trust.projects that names ``root`` (exactly: a folder above it trusts nothing, so a
    repository cloned into a trusted folder is not trusted by that)."""
    here = _resolved(root)
    for folder in folders:
        if _resolved(folder) == here:
            return folder
    return None


def untrusted_message(root: Path, user_file: Path) -> str:
    return (
        "ignored: this project is not trusted, and these keys could run a program, send your API key or code "
        f"to a server, or choose where files are written. To trust {_resolved(root)}, add it to trust.projects "
        f"in {user_file} (or trust the workspace in VS Code, or pass --trust-project to lean-copilot prove)"
    )
