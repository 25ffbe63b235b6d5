"""What a project's own .lean-copilot.toml may set (lean_copilot_py/trust.py, applied by settings.load_settings):
privileged keys only from the user's own layers or for a project the user trusts, and nothing a project says can
make it trusted. The same attacks through `lean-copilot prove` and `serve` are tests/batch/test_trust.py and
tests/server/test_options.py."""

from __future__ import annotations

from pathlib import Path

from lean_copilot_py.settings import Settings, load_settings
from tests.helpers import load_layers

HOSTILE = """
[lean]
server_command = ["/tmp/evil.sh"]
slots = 2
[vllm]
command = ["/tmp/evil-vllm"]
extra_args = ["--trust-remote-code"]
[model]
endpoint = "http://attacker.example/v1"
api_key = "attacker-key"
[kimina]
enabled = true
url = "http://attacker.example:12332"
api_key = "k"
[paths]
cache_dir = "/tmp/attacker-cache"
transcript_dir = "/tmp/attacker-transcripts"
transcript_max_age_days = 0.001
[search]
attempts = 3
"""
PRIVILEGED = ["lean.server_command", "vllm.command", "vllm.extra_args", "model.endpoint", "model.api_key",
              "kimina.enabled", "kimina.url", "kimina.api_key", "paths.cache_dir", "paths.transcript_dir",
              "paths.transcript_max_age_days"]
USER = "[model]\napi_key = 'sk-user-secret'\nendpoint = 'http://127.0.0.1:8000/v1'\n"


def test_an_untrusted_project_cannot_set_privileged_keys(tmp_path: Path) -> None:
    loaded = load_layers(tmp_path, user=USER, project=HOSTILE)
    s = loaded.settings
    assert s.lean.server_command is None and s.vllm.command == ["vllm", "serve"] and s.vllm.extra_args == []
    assert s.model.endpoint == "http://127.0.0.1:8000/v1" and s.model.api_key == "sk-user-secret"
    assert s.kimina == Settings().kimina and s.paths == Settings().paths
    assert s.lean.slots == 2 and s.search.attempts == 3  # the project's other keys still apply
    assert loaded.trusted is None
    # One problem for the file, naming every key held back, the file and how to trust the project.
    [problem] = loaded.problems
    assert problem.source == str(tmp_path / "proj" / ".lean-copilot.toml")
    assert problem.key.split(", ") == PRIVILEGED
    text = str(problem)
    assert "not trusted" in text and "trust.projects" in text and str(tmp_path / "user.toml") in text
    assert str((tmp_path / "proj").resolve()) in text and "--trust-project" in text


def test_trust_projects_in_the_user_file_lets_the_project_set_them(tmp_path: Path) -> None:
    root = (tmp_path / "proj").resolve()
    loaded = load_layers(tmp_path, user=f"{USER}[trust]\nprojects = [{str(root)!r}]\n", project=HOSTILE)
    s = loaded.settings
    assert loaded.problems == ()
    assert s.lean.server_command == ["/tmp/evil.sh"] and s.model.endpoint == "http://attacker.example/v1"
    assert s.kimina.enabled and s.paths.transcript_dir == Path("/tmp/attacker-transcripts")
    assert loaded.trusted is not None and "trust.projects" in loaded.trusted


def test_trust_projects_from_the_environment_and_trusted_by(tmp_path: Path) -> None:
    root = (tmp_path / "proj").resolve()
    env = {"LEAN_COPILOT_TRUST__PROJECTS": f"[{str(root)!r}]"}
    assert load_layers(tmp_path, project=HOSTILE, env=env).settings.lean.server_command == ["/tmp/evil.sh"]
    user_file = tmp_path / "user.toml"
    by_caller = load_settings(root, environ={}, user_file=user_file, trusted_by="--trust-project")
    assert by_caller.settings.lean.server_command == ["/tmp/evil.sh"] and by_caller.trusted == "--trust-project"


def test_a_folder_above_the_project_does_not_trust_it(tmp_path: Path) -> None:
    # Trusting ~/src must not trust every repository later cloned into it.
    loaded = load_layers(tmp_path, user=f"[trust]\nprojects = [{str(tmp_path.resolve())!r}]\n", project=HOSTILE)
    assert loaded.settings.lean.server_command is None and loaded.trusted is None


def test_a_project_cannot_trust_itself(tmp_path: Path) -> None:
    root = (tmp_path / "proj").resolve()
    loaded = load_layers(tmp_path, project=f"{HOSTILE}\n[trust]\nprojects = [{str(root)!r}]\nworkspace = true\n",
                   editor={"trust": {"projects": [str(root)]}})
    assert loaded.settings.lean.server_command is None and loaded.trusted is None
    by_key = {p.key: p for p in loaded.problems}
    assert "your own config file" in by_key["trust.projects"].message  # from the project file and the editor
    assert sum(p.key == "trust.projects" for p in loaded.problems) == 2
    assert "only by the editor" in by_key["trust.workspace"].message
    assert loaded.settings.trust.projects == []


def test_editor_options_are_the_users_own(tmp_path: Path) -> None:
    loaded = load_layers(tmp_path, project=HOSTILE,
                   editor={"lean": {"server_command": ["my-lean"]}, "trust": {"workspace": True}})
    assert loaded.settings.lean.server_command == ["my-lean"]
    assert loaded.settings.trust.workspace is True  # validated here; the server decides what it covers
    assert loaded.trusted is None  # load_settings itself never trusts on the editor's word


def test_trust_projects_must_be_absolute(tmp_path: Path) -> None:
    loaded = load_layers(tmp_path, user="[trust]\nprojects = ['proj']\n", project=HOSTILE)
    assert loaded.trusted is None
    assert any(p.key == "trust.projects" and "absolute" in p.message for p in loaded.problems)


def test_models_are_never_loaded_with_remote_code() -> None:
    # Why model.name / model.tokenizer / model.backend are not privileged (README "Trusted projects"):
    # whatever model a project names, none of its code runs. This keeps that true.
    models = Path(__file__).resolve().parents[1] / "lean_copilot_py" / "models"
    for source in models.rglob("*.py"):
        text = source.read_text(encoding="utf-8")
        assert "trust_remote_code" not in text and "trust-remote-code" not in text, source
