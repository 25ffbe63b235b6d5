"""The settings object (lean_copilot_py/settings.py): its layers and their order, bad values reported with the rest
applied, environment values as single TOML literals, bounded problem reports, README documenting every key. What a
project's own file may set is tests/test_trust.py."""

from __future__ import annotations

from pathlib import Path

from lean_copilot_py.settings import SECTIONS, Settings, env_layer, problem_lines
from tests.helpers import load_layers


def test_defaults_without_any_layer(tmp_path: Path) -> None:
    loaded = load_layers(tmp_path)
    assert loaded.settings == Settings()
    assert loaded.problems == ()
    assert loaded.settings.search.attempts == 8
    assert loaded.settings.model.family == "stepfun"


def test_layers_override_in_order(tmp_path: Path) -> None:
    loaded = load_layers(
        tmp_path,
        user="[search]\nattempts = 2\ndeadline_s = 10\n[model]\nname = 'user-model'\n",
        project="[search]\nattempts = 3\n",
        env={"LEAN_COPILOT_SEARCH__ATTEMPTS": "4", "LEAN_COPILOT_LEAN__SLOTS": "6"},
        editor={"search": {"attempts": 5}},
    )
    s = loaded.settings
    assert s.search.attempts == 5  # editor wins
    assert s.lean.slots == 6  # env
    assert s.search.deadline_s == 10  # user file, untouched by later layers
    assert s.model.name == "user-model"
    assert loaded.problems == ()


def test_bad_keys_are_reported_and_the_rest_applies(tmp_path: Path) -> None:
    loaded = load_layers(
        tmp_path,
        project="[search]\nattempts = 'many'\ndeadline_s = 30\ncolour = 'red'\n[nonsense]\nx = 1\n",
        editor={"search": {"attempts": 0}, "lean": {"slots": 2}},
    )
    s = loaded.settings
    assert s.search.attempts == 8  # both bad values rejected, default kept
    assert s.search.deadline_s == 30
    assert s.lean.slots == 2
    problems = {(p.key, p.source.endswith(".lean-copilot.toml") or p.source) for p in loaded.problems}
    assert ("search.attempts", True) in problems
    assert ("search.colour", True) in problems
    assert ("nonsense", True) in problems
    assert ("search.attempts", "editor options") in problems
    assert all(str(p).count(":") >= 2 for p in loaded.problems)


def test_malformed_toml_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    loaded = load_layers(tmp_path, project="[search\nattempts = ")
    assert loaded.settings == Settings()
    assert len(loaded.problems) == 1 and "could not be read" in loaded.problems[0].message


def test_env_values_parse_as_toml_literals() -> None:
    layer = env_layer(
        {
            "LEAN_COPILOT_LEAN__SERVER_COMMAND": '["python", "fake.py"]',
            "LEAN_COPILOT_MODEL__ENDPOINT": "http://127.0.0.1:9/v1",
            "LEAN_COPILOT_INLINE__ENABLED": "false",
            "UNRELATED": "1",
        }
    )
    assert layer == {
        "lean": {"server_command": ["python", "fake.py"]},
        "model": {"endpoint": "http://127.0.0.1:9/v1"},
        "inline": {"enabled": False},
    }


# --- values that used to be taken silently -------------------------------------------------------------

def test_an_env_value_must_be_one_toml_value(tmp_path: Path) -> None:
    env = {"LEAN_COPILOT_SEARCH__MAX_TOKENS": "1\nattempts = 99", "LEAN_COPILOT_SEARCH__DEADLINE_S": "5\n[lean]\nx=1",
           "LEAN_COPILOT_MODEL__NAME": "a\nb", "LEAN_COPILOT_LEAN__SLOTS": "3 # a comment is fine"}
    loaded = load_layers(tmp_path, env=env)
    s = loaded.settings
    assert s.search.max_tokens == 16384 and s.search.attempts == 8 and s.search.deadline_s == 600
    assert s.model.name == Settings().model.name and s.lean.slots == 3
    by_source = {p.source: p for p in loaded.problems}
    assert set(by_source) == {"environment variable LEAN_COPILOT_SEARCH__MAX_TOKENS",
                              "environment variable LEAN_COPILOT_SEARCH__DEADLINE_S",
                              "environment variable LEAN_COPILOT_MODEL__NAME"}
    assert "also sets attempts" in by_source["environment variable LEAN_COPILOT_SEARCH__MAX_TOKENS"].message
    assert "also sets lean" in by_source["environment variable LEAN_COPILOT_SEARCH__DEADLINE_S"].message
    assert "one line" in by_source["environment variable LEAN_COPILOT_MODEL__NAME"].message


def test_an_empty_command_is_a_problem_from_any_layer(tmp_path: Path) -> None:
    loaded = load_layers(
        tmp_path, user="[lean]\nserver_command = ['my-lean', '--server']\n[vllm]\ncommand = []\n",
        env={"LEAN_COPILOT_LEAN__SERVER_COMMAND": "[]"}, editor={"lean": {"server_command": ["", "x"]}},
    )
    assert loaded.settings.lean.server_command == ["my-lean", "--server"]  # the user file's, not silently unset
    assert loaded.settings.vllm.command == ["vllm", "serve"]
    problems = [(p.source, p.key) for p in loaded.problems if "must name a program" in p.message]
    assert problems == [(str(tmp_path / "user.toml"), "vllm.command"),
                        ("environment variable LEAN_COPILOT_LEAN__SERVER_COMMAND", "lean.server_command"),
                        ("editor options", "lean.server_command")]


def test_a_model_name_cannot_be_a_command_line_option(tmp_path: Path) -> None:
    # `vllm serve <model.name>`: "--config=evil.yaml" would make vLLM read the project's own flags file.
    loaded = load_layers(tmp_path, project="[model]\nname = '--config=evil.yaml'\ntokenizer = '-x'\n")
    assert loaded.settings.model.name == Settings().model.name and loaded.settings.model.tokenizer is None
    assert {p.key for p in loaded.problems if "start with '-'" in p.message} == {"model.name", "model.tokenizer"}


def test_problem_lines_are_bounded(tmp_path: Path) -> None:
    keys = "\n".join(f"k{i} = 1" for i in range(50_000))
    loaded = load_layers(tmp_path, project=f"[search]\n{keys}\n")
    assert len(loaded.problems) == 50_000
    lines = problem_lines(loaded.problems)
    assert len(lines) == 21 and lines[-1] == "… and 49980 more settings problems"
    assert problem_lines(loaded.problems[:3]) == [str(p) for p in loaded.problems[:3]]


def test_readme_documents_every_key() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    for section, model in SECTIONS.items():
        for key in model.model_fields:
            assert f"`{section}.{key}`" in readme, f"{section}.{key} is not in README's settings table"
