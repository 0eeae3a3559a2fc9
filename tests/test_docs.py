"""The README keeps up with the code: every command and every setting is documented."""

from __future__ import annotations

from conftest import ROOT

from assistant.cli.main import build_parser
from corpus.settings import Settings

README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme():
    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices
    for name in commands:
        assert f"procure-ai {name}" in README, f"`procure-ai {name}` is not documented in README.md"


def test_every_environment_variable_is_in_the_readme():
    for var in [*Settings.ENV, "PROCURE_AI_AUTH"]:
        assert var in README, f"{var} is not documented in README.md"


def test_the_two_commands_are_there():
    assert "bash run.sh" in README and "bash scripts/test.sh" in README


def _settings_table() -> list[list[str]]:
    section = README.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip().strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows[2:]]  # past the header and its rule


def test_the_readme_settings_table_matches_the_settings_tree():
    """Each row's environment variables are settings of the tree, and its default is the tree's default."""
    import re

    parser = build_parser()
    flags = {opt for sub in next(a for a in parser._actions if a.dest == "command").choices.values()
             for action in sub._actions for opt in action.option_strings}
    defaults = Settings()
    seen = set()
    for name, flag_cell, env_cell, default_cell in _settings_table():
        for flag in re.findall(r"--[a-z-]+|-k\b", flag_cell):
            assert flag in flags, f"README names a flag {flag} that no command has"
        for var in re.findall(r"PROCURE_AI_[A-Z_]+", env_cell):
            assert var in Settings.ENV, f"README names {var}, which is not in Settings.ENV"
            seen.add(var)
            value = defaults.get(Settings.ENV[var])
            if isinstance(value, (int, str)) and not isinstance(value, bool):  # None: a default in words
                assert str(value) in default_cell, f"README says the default of {var} is {default_cell!r}, not {value}"
    assert seen == set(Settings.ENV), f"settings missing from the README table: {set(Settings.ENV) - seen}"
