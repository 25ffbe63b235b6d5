from pathlib import Path

from lean_copilot_py.settings import Settings, env_layer, load_settings


def _load(tmp_path: Path, *, user: str = "", project: str = "", env: dict[str, str] | None = None, editor=None):
    user_file = tmp_path / "user.toml"
    if user:
        user_file.write_text(user)
    root = tmp_path / "proj"
    root.mkdir(exist_ok=True)
    if project:
        (root / ".lean-copilot.toml").write_text(project)
    return load_settings(root, environ=env or {}, editor_options=editor, user_file=user_file)


def test_defaults_without_any_layer(tmp_path: Path) -> None:
    loaded = _load(tmp_path)
    assert loaded.settings == Settings()
    assert loaded.problems == ()
    assert loaded.settings.search.attempts == 8
    assert loaded.settings.model.family == "stepfun"


def test_layers_override_in_order(tmp_path: Path) -> None:
    loaded = _load(
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
    loaded = _load(
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
    loaded = _load(tmp_path, project="[search\nattempts = ")
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
