"""The layer fences of ARCHITECTURE.md, read from the package's own imports, and the map itself kept true."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lean_copilot_py"

# Outside libraries and the one package that may import each.
FENCED = {
    "pygls": "server",
    "lsprotocol": "server",
    "leanclient": "lean",
    "openai": "models",
    "transformers": "models",
    "vllm": "models",
    "torch": "models",
    "tokenizers": "models",
}
# Our own packages that a layer must not reach into (core is the centre: it imports no other layer).
OWN_FENCES = {
    "core": {"server", "lean", "models", "engine", "batch", "bench", "testing"},
    "engine": {"server", "batch", "bench", "testing"},
    "lean": {"server", "models", "engine", "batch", "bench", "testing"},
    "models": {"server", "lean", "engine", "batch", "bench", "testing"},
    "server": {"lean", "models", "batch", "bench", "testing"},
    "batch": {"server", "lean", "models", "bench", "testing"},
}


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def _layer(path: Path) -> str:
    rel = path.relative_to(PACKAGE)
    return rel.parts[0] if len(rel.parts) > 1 else ""


def _imports(path: Path) -> list[str]:
    """Every module a file imports, absolute (relative imports resolved against the package)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    here = list(path.relative_to(ROOT).with_suffix("").parts)
    if here[-1] == "__init__":
        here = here[:-1]
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                up = node.level - (path.name == "__init__.py")  # a package's `.` is the package itself
                base = here[: len(here) - up]
                found.append(".".join([*base, *([node.module] if node.module else [])]))
            else:
                found.append(node.module or "")
    return found


def test_outside_libraries_stay_behind_their_fence() -> None:
    breaches = []
    for path in _modules():
        layer = _layer(path)
        for name in _imports(path):
            top = name.split(".")[0]
            owner = FENCED.get(top)
            if owner is not None and layer != owner:
                breaches.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not breaches, breaches


def test_layers_import_only_what_the_map_allows() -> None:
    breaches = []
    for path in _modules():
        layer = _layer(path)
        for name in _imports(path):
            parts = name.split(".")
            if parts[0] != "lean_copilot_py" or len(parts) < 2:
                continue
            if parts[1] in OWN_FENCES.get(layer, set()):
                breaches.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not breaches, breaches


def test_the_product_never_imports_its_tests() -> None:
    users = [str(p.relative_to(ROOT)) for p in _modules() if any(n.split(".")[0] == "tests" for n in _imports(p))]
    assert not users, users


def test_the_import_reader_sees_relative_imports() -> None:
    # The checks above mean something only if relative imports resolve: core/search.py reaches core siblings so.
    names = _imports(PACKAGE / "core" / "search.py")
    assert "lean_copilot_py.core.attempt" in names and "lean_copilot_py.core.events" in names
    assert "lean_copilot_py.settings" in names  # `from ..settings import Settings`, one level up


def test_no_module_is_over_400_lines() -> None:
    long = {str(p.relative_to(ROOT)): n for p in _modules() if (n := len(p.read_text().splitlines())) > 400}
    assert not long, long


@pytest.mark.parametrize("doc", ["ARCHITECTURE.md"])
def test_every_module_the_map_names_exists(doc: str) -> None:
    text = (ROOT / doc).read_text(encoding="utf-8")
    named = set(re.findall(r"`((?:[a-z_]+/)+[a-z_]+\.py)", text)) | set(re.findall(r"`([a-z_]+\.py)`", text))
    assert len(named) > 30
    missing = [n for n in sorted(named) if not (PACKAGE / n).exists() and not (ROOT / n).exists()]
    assert not missing, missing


def test_every_layer_is_on_the_map() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    layers = {p.name for p in PACKAGE.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert layers >= {"core", "engine", "lean", "models", "server", "batch", "testing"}
    assert all(f"{layer}/" in text for layer in layers), sorted(layer for layer in layers if f"{layer}/" not in text)
