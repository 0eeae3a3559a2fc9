"""The README keeps up with the code: every command and every setting is documented."""

from __future__ import annotations

from conftest import ROOT

from assistant.cli import build_parser
from assistant.settings import Settings

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
