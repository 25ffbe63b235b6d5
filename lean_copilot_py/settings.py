"""One typed settings object, built once and passed down.

Layers, later wins: defaults < ~/.config/lean-copilot/config.toml < <lake root>/.lean-copilot.toml <
LEAN_COPILOT_<SECTION>__<KEY> environment variables < editor options. Every key is validated on its own:
a wrong type or an unknown key becomes a SettingsProblem naming the key and where it came from, and
every other key still applies.

A project's own file is the one layer that a stranger writes (a cloned repository): the privileged keys
(lean_copilot_py/trust.py) are taken from it only when the user trusts the project.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from . import trust

DEFAULT_AXIOMS = ("propext", "Classical.choice", "Quot.sound")
ENV_PREFIX = "LEAN_COPILOT_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _names_a_program(command: list[str]) -> list[str]:
    # An empty list used to fall back silently to the default command: say so instead.
    if not command or not command[0].strip():
        raise ValueError("must name a program, e.g. [\"lake\", \"serve\", \"--\"] (leave the key out for the default)")
    return command


def _not_an_option(name: str) -> str:
    # The model name is an argument of `vllm serve`: "--config=x.yaml" there would be read as an option.
    if not name.strip():
        raise ValueError("must not be empty")
    if name.startswith("-"):
        raise ValueError("must not start with '-' (it would be read as a command-line option)")
    return name


def _absolute_paths(paths: list[Path]) -> list[Path]:
    relative = [str(p) for p in paths if not p.expanduser().is_absolute()]
    if relative:
        raise ValueError(f"must be absolute paths (or start with ~), not {', '.join(relative)}")
    return paths


Command = Annotated[list[str], AfterValidator(_names_a_program)]
ModelName = Annotated[str, AfterValidator(_not_an_option)]


class ModelSettings(_Section):
    backend: Literal["openai", "vllm", "transformers", "none"] = "openai"
    endpoint: str = "http://127.0.0.1:8000/v1"  # OpenAI-compatible base URL (vllm serve, SGLang, ...)
    api_key: str = "EMPTY"
    name: ModelName = "stepfun-ai/StepFun-Prover-Preview-7B"
    tokenizer: ModelName | None = None  # defaults to `name`
    family: Literal["stepfun", "deepseek", "kimina", "goedel"] = "stepfun"
    request_timeout_s: float = Field(600.0, gt=0)
    device: str = "auto"  # transformers backend: "cpu", "cuda", "auto"
    dtype: str = "auto"  # transformers backend: "bfloat16", "float32", "auto"


class VllmSettings(_Section):
    """Managed `vllm serve` child process (model.backend = "vllm")."""

    command: Command = ["vllm", "serve"]
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
    max_helpers: int = Field(8, ge=0, le=1000)  # helper lemmas a model's proof may bring (written to the file)
    max_helper_chars: int = Field(20000, ge=0)  # their total length


class LeanSettings(_Section):
    server_command: Command | None = None  # default: `lake serve --` in the project root
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
    # Transcripts are pruned, oldest first, past either limit; 0 turns a limit off.
    transcript_max_mb: float = Field(100.0, ge=0)
    transcript_max_age_days: float = Field(30.0, ge=0)


class KiminaSettings(_Section):
    """A Kimina Lean Server (project-numina/kimina-lean-server) as the checker instead of a local
    `lake serve`: proofs are checked over HTTP by its Lean REPLs, in the server's own Lean environment."""

    enabled: bool = False
    url: str = "http://127.0.0.1:12332"  # base URL; requests go to <url>/api/check
    api_key: str | None = None  # sent as `Authorization: Bearer <key>` when set
    retries: int = Field(2, ge=0)  # no free REPL, a REPL that died, 429/5xx, connection errors; with backoff


class TrustSettings(_Section):
    """Which projects may set the privileged keys in their own .lean-copilot.toml (trust.py says which)."""

    # Honoured only from the user's file and the environment: folders whose Lake projects are trusted.
    projects: Annotated[list[Path], AfterValidator(_absolute_paths)] = []
    # Honoured only from editor options: the editor says the user trusts the workspace (VS Code's
    # workspace trust); it covers the projects inside the workspace's folders.
    workspace: bool = False


class ServerSettings(_Section):
    """The language server's own behaviour (the editor-side keys `leanCopilot.server.command`/`pythonPath` are
    the VS Code extension's, not these)."""

    # A debounced whole-document check of each open file, whose errors offer "Repair this proof": for editors
    # without a Lean extension of their own (which would report those errors itself).
    check_documents: bool = False
    check_delay_s: float = Field(1.0, ge=0, le=60)  # quiet time after the last edit before a check starts


class Settings(_Section):
    model: ModelSettings = ModelSettings()
    vllm: VllmSettings = VllmSettings()
    search: SearchSettings = SearchSettings()
    lean: LeanSettings = LeanSettings()
    inline: InlineSettings = InlineSettings()
    paths: PathsSettings = PathsSettings()
    kimina: KiminaSettings = KiminaSettings()
    trust: TrustSettings = TrustSettings()
    server: ServerSettings = ServerSettings()

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
    source: str  # a file path, "environment variable LEAN_COPILOT_…" or "editor options"
    key: str  # dotted, e.g. "search.attempts" (several, comma-separated, for one file's untrusted keys)
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


@dataclass(frozen=True)
class LoadedSettings:
    settings: Settings
    problems: tuple[SettingsProblem, ...]
    sources: tuple[str, ...]  # the layers that were read, in order
    trusted: str | None = None  # why the project's own file may set privileged keys; None: it may not


def user_config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "lean-copilot" / "config.toml"


def project_config_path(lake_root: Path) -> Path:
    return lake_root / ".lean-copilot.toml"


def problem_lines(problems: Sequence[SettingsProblem | str], limit: int = 20) -> list[str]:
    """At most ``limit`` problems and a count of the rest: a file of 50,000 unknown keys is one screen."""
    lines = [str(p) for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"… and {len(problems) - limit} more settings problems")
    return lines


def _parse_env_value(raw: str) -> Any:
    """Exactly one TOML literal (number, boolean, array, quoted string), else the text as a plain string.

    Raises ValueError for text holding more than that: `1\nattempts = 99` parses as TOML too, and taking
    its first value would silently drop the rest."""
    try:
        parsed = tomllib.loads(f"v = {raw}")
    except tomllib.TOMLDecodeError:
        if "\n" in raw or "\r" in raw:
            raise ValueError("must be one value on one line (a TOML literal or plain text)") from None
        return raw
    extra = sorted(k for k in parsed if k != "v")
    if extra:
        raise ValueError(f"must be exactly one TOML value, but it also sets {', '.join(extra)}")
    return parsed["v"]


def _env_layers(environ: Mapping[str, str], problems: list[SettingsProblem]) -> list[tuple[str, dict[str, Any]]]:
    """One layer per LEAN_COPILOT_<SECTION>__<KEY> variable, so that a problem names the variable."""
    layers: list[tuple[str, dict[str, Any]]] = []
    for name in sorted(environ):
        if not name.startswith(ENV_PREFIX) or "__" not in name:
            continue
        section, _, key = name[len(ENV_PREFIX) :].partition("__")
        section, key = section.lower(), key.lower()
        source = f"environment variable {name}"
        try:
            value = _parse_env_value(environ[name])
        except ValueError as exc:
            problems.append(SettingsProblem(source, f"{section}.{key}", f"{exc} (ignored)"))
            continue
        layers.append((source, {section: {key: value}}))
    return layers


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """The environment's settings as one tree (values that parse; problems are dropped here)."""
    merged: dict[str, Any] = {}
    for _, layer in _env_layers(environ, []):
        for section, values in layer.items():
            merged.setdefault(section, {}).update(values)
    return merged


def _message(exc: ValidationError, key: str) -> str:
    msg = "; ".join(e["msg"] for e in exc.errors() if tuple(e["loc"][:1]) in ((key,), ()))
    return (msg or exc.errors()[0]["msg"]).removeprefix("Value error, ")


def _apply_layer(
    merged: dict[str, dict[str, Any]],
    layer: Mapping[str, Any],
    source: str,
    problems: list[SettingsProblem],
    *,
    role: trust.Role,
    untrusted: str | None = None,
) -> None:
    """Validate and merge one layer. ``untrusted``: the project is not trusted, so its privileged keys are
    held back, all of them in one problem with this message."""
    held_back: list[str] = []
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
                problems.append(SettingsProblem(source, dotted, "unknown key (ignored)"))
                continue
            refused = trust.refusal(role, section, key)
            if refused is not None:
                problems.append(SettingsProblem(source, dotted, refused))
                continue
            if untrusted is not None and trust.is_privileged(section, key):
                held_back.append(dotted)
                continue
            candidate = {**merged.get(section, {}), key: value}
            try:
                # Validate the key in its section so constraints (ge/le) and the type both apply.
                model.model_validate(candidate)
                TypeAdapter(field.annotation).validate_python(value)
            except ValidationError as exc:
                problems.append(SettingsProblem(source, dotted, f"{_message(exc, key)} (ignored)"))
                continue
            merged.setdefault(section, {})[key] = value
    if held_back and untrusted is not None:
        problems.append(SettingsProblem(source, ", ".join(held_back), untrusted))


def _read_toml(path: Path, problems: list[SettingsProblem]) -> dict[str, Any] | None:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(SettingsProblem(str(path), "(file)", f"could not be read: {exc} (the file is ignored)"))
        return None


_TRUST_LIST = TypeAdapter(TrustSettings.model_fields["projects"].annotation)


def _trust_list(layers: Sequence[Mapping[str, Any]]) -> list[Path]:
    """trust.projects as the user's own layers say (the last valid one wins, like every key)."""
    folders: list[Path] = []
    for layer in layers:
        section = layer.get("trust")
        if isinstance(section, Mapping) and "projects" in section:
            try:
                folders = _TRUST_LIST.validate_python(section["projects"])
            except ValidationError:
                pass  # reported when the layer is applied
    return folders


def load_settings(
    lake_root: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    editor_options: Mapping[str, Any] | None = None,
    user_file: Path | None = None,
    trusted_by: str | None = None,
) -> LoadedSettings:
    """Build the settings from every layer. Never raises on bad input: problems are returned.

    ``trusted_by``: the caller knows the user trusts the project at ``lake_root`` (``--trust-project``, the
    editor's workspace trust) and says why. Otherwise the project is trusted when trust.projects of the
    user's own file or environment lists it."""
    problems: list[SettingsProblem] = []
    merged: dict[str, dict[str, Any]] = {}
    sources: list[str] = ["defaults"]
    user_path = user_file or user_config_path()
    user = _read_toml(user_path, problems)
    project_path = project_config_path(lake_root) if lake_root is not None else None
    project = _read_toml(project_path, problems) if project_path is not None else None
    env_problems: list[SettingsProblem] = []
    env = _env_layers(os.environ if environ is None else environ, env_problems)

    trusted = trusted_by
    if trusted is None and lake_root is not None:
        entry = trust.listed(lake_root, _trust_list([user or {}, *(layer for _, layer in env)]))
        trusted = None if entry is None else f"listed in trust.projects ({entry})"

    if user is not None:
        sources.append(str(user_path))
        _apply_layer(merged, user, str(user_path), problems, role="user")
    if project is not None and project_path is not None and lake_root is not None:
        sources.append(str(project_path))
        untrusted = None if trusted else trust.untrusted_message(lake_root, user_path)
        _apply_layer(merged, project, str(project_path), problems, role="project", untrusted=untrusted)
    problems += env_problems
    if env:
        sources.append("environment")
    for source, layer in env:
        _apply_layer(merged, layer, source, problems, role="environment")
    if editor_options:
        sources.append("editor options")
        _apply_layer(merged, editor_options, "editor options", problems, role="editor")
    settings = Settings.model_validate({s: SECTIONS[s].model_validate(v) for s, v in merged.items()})
    return LoadedSettings(settings, tuple(problems), tuple(sources), trusted)
