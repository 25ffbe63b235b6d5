"""One typed settings object, built once and passed down.

Layers, later wins: defaults < ~/.config/lean-copilot/config.toml < <lake root>/.lean-copilot.toml <
LEAN_COPILOT_<SECTION>__<KEY> environment variables < editor options. Every key is validated on its own:
a wrong type or an unknown key becomes a SettingsProblem naming the key and where it came from, and
every other key still applies.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

DEFAULT_AXIOMS = ("propext", "Classical.choice", "Quot.sound")
ENV_PREFIX = "LEAN_COPILOT_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ModelSettings(_Section):
    backend: Literal["openai", "vllm", "transformers", "none"] = "openai"
    endpoint: str = "http://127.0.0.1:8000/v1"  # OpenAI-compatible base URL (vllm serve, SGLang, ...)
    api_key: str = "EMPTY"
    name: str = "stepfun-ai/StepFun-Prover-Preview-7B"
    tokenizer: str | None = None  # defaults to `name`
    family: Literal["stepfun", "deepseek", "kimina", "goedel"] = "stepfun"
    request_timeout_s: float = Field(600.0, gt=0)
    device: str = "auto"  # transformers backend: "cpu", "cuda", "auto"
    dtype: str = "auto"  # transformers backend: "bfloat16", "float32", "auto"


class VllmSettings(_Section):
    """Managed `vllm serve` child process (model.backend = "vllm")."""

    command: list[str] = ["vllm", "serve"]
    tensor_parallel_size: int = Field(1, ge=1)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    max_model_len: int = Field(20480, ge=256)
    extra_args: list[str] = []
    startup_timeout_s: float = Field(900.0, gt=0)
    restarts: int = Field(3, ge=0)


class SearchSettings(_Section):
    attempts: int = Field(8, ge=1, le=256)  # parallel model attempts
    max_turns: int = Field(0, ge=0)  # sketch/feedback turns per attempt; 0 = no cap (budget only)
    context_tokens: int = Field(20480, ge=256)  # total token budget per attempt
    max_tokens: int = Field(16384, ge=1)  # per generation call
    deadline_s: float = Field(600.0, gt=0)
    temperature: float | None = None  # None: the prompt family's default
    top_p: float | None = None
    automation: list[str] = ["rfl", "decide", "simp", "omega", "grind", "exact?", "apply?"]
    cache: bool = True
    concurrency: int = Field(2, ge=1)  # batch mode: searches running at once


class LeanSettings(_Section):
    server_command: list[str] | None = None  # default: `lake serve --` in the project root
    slots: int = Field(4, ge=1, le=64)  # shadow documents per import header, checks in parallel
    check_timeout_s: float = Field(60.0, gt=0)
    startup_timeout_s: float = Field(300.0, gt=0)
    max_workers: int | None = Field(None, ge=1)
    allowed_axioms: list[str] = list(DEFAULT_AXIOMS)
    allow_native_decide: bool = False
    memory_limit_mb: int | None = Field(None, ge=256)  # RLIMIT_AS for the Lean processes we start
    share_checks: bool = True  # identical checks (same document, modulo comments) share one Lean check


class InlineSettings(_Section):
    enabled: bool = True
    budget_s: float = Field(8.0, gt=0)
    max_suggestions: int = Field(3, ge=1, le=20)
    use_model: bool = True


class PathsSettings(_Section):
    cache_dir: Path = Path("~/.cache/lean-copilot")
    transcript_dir: Path | None = None  # default: <cache_dir>/transcripts


class KiminaSettings(_Section):
    """A Kimina Lean Server (project-numina/kimina-lean-server) as the checker instead of a local
    `lake serve`: proofs are checked over HTTP by its Lean REPLs, in the server's own Lean environment."""

    enabled: bool = False
    url: str = "http://127.0.0.1:12332"  # base URL; requests go to <url>/api/check
    api_key: str | None = None  # sent as `Authorization: Bearer <key>` when set
    retries: int = Field(2, ge=0)  # on 429 (no free REPL), 5xx and connection errors, with backoff


class Settings(_Section):
    model: ModelSettings = ModelSettings()
    vllm: VllmSettings = VllmSettings()
    search: SearchSettings = SearchSettings()
    lean: LeanSettings = LeanSettings()
    inline: InlineSettings = InlineSettings()
    paths: PathsSettings = PathsSettings()
    kimina: KiminaSettings = KiminaSettings()

    @property
    def transcript_dir(self) -> Path:
        d = self.paths.transcript_dir or (self.paths.cache_dir / "transcripts")
        return d.expanduser()

    @property
    def cache_dir(self) -> Path:
        return self.paths.cache_dir.expanduser()


SECTIONS: dict[str, type[_Section]] = {
    name: field.annotation  # type: ignore[misc]
    for name, field in Settings.model_fields.items()
}


@dataclass(frozen=True)
class SettingsProblem:
    source: str  # a file path, "environment" or "editor options"
    key: str  # dotted, e.g. "search.attempts"
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    problems: tuple[SettingsProblem, ...]
    sources: tuple[str, ...]  # the layers that were read, in order


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lean-copilot" / "config.toml"


def project_config_path(lake_root: Path) -> Path:
    return lake_root / ".lean-copilot.toml"


def _parse_env_value(raw: str) -> Any:
    """Env values are TOML literals where they parse (numbers, booleans, arrays), strings otherwise."""
    try:
        return tomllib.loads(f"v = {raw}")["v"]
    except tomllib.TOMLDecodeError:
        return raw


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    layer: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        layer.setdefault(section.lower(), {})[key.lower()] = _parse_env_value(raw)
    return layer


def _apply_layer(
    merged: dict[str, dict[str, Any]], layer: Mapping[str, Any], source: str, problems: list[SettingsProblem]
) -> None:
    for section, values in layer.items():
        model = SECTIONS.get(section)
        if model is None:
            problems.append(SettingsProblem(source, section, f"unknown section (known: {', '.join(SECTIONS)})"))
            continue
        if not isinstance(values, Mapping):
            problems.append(SettingsProblem(source, section, "expected a table of keys"))
            continue
        for key, value in values.items():
            dotted = f"{section}.{key}"
            field = model.model_fields.get(key)
            if field is None:
                problems.append(SettingsProblem(source, dotted, "unknown key"))
                continue
            candidate = {**merged.get(section, {}), key: value}
            try:
                # Validate the key in its section so constraints (ge/le) and the type both apply.
                model.model_validate(candidate)
                TypeAdapter(field.annotation).validate_python(value)
            except ValidationError as exc:
                msg = "; ".join(e["msg"] for e in exc.errors() if tuple(e["loc"][:1]) in ((key,), ()))
                problems.append(SettingsProblem(source, dotted, msg or exc.errors()[0]["msg"]))
                continue
            merged.setdefault(section, {})[key] = value


def _read_toml(path: Path, problems: list[SettingsProblem]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(SettingsProblem(str(path), "(file)", f"could not be read: {exc}"))
        return None


def load_settings(
    lake_root: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    editor_options: Mapping[str, Any] | None = None,
    user_file: Path | None = None,
) -> LoadedSettings:
    """Build the settings from every layer. Never raises on bad input: problems are returned."""
    problems: list[SettingsProblem] = []
    merged: dict[str, dict[str, Any]] = {}
    sources: list[str] = ["defaults"]
    files = [user_file or user_config_path()]
    if lake_root is not None:
        files.append(project_config_path(lake_root))
    for path in files:
        data = _read_toml(path, problems)
        if data is not None:
            sources.append(str(path))
            _apply_layer(merged, data, str(path), problems)
    env = env_layer(os.environ if environ is None else environ)
    if env:
        sources.append("environment")
        _apply_layer(merged, env, "environment", problems)
    if editor_options:
        sources.append("editor options")
        _apply_layer(merged, editor_options, "editor options", problems)
    settings = Settings.model_validate({s: SECTIONS[s].model_validate(v) for s, v in merged.items()})
    return LoadedSettings(settings, tuple(problems), tuple(sources))

