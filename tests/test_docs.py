"""Docs completeness: every setting read from the environment and every command is documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leadbase.cli import COMMANDS

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


def _env_names_in_code() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "leadbase").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        names.update(re.findall(r"""env(?:_bool|_int)?\(\s*["']([A-Z][A-Z0-9_]+)["']""", text))
        names.update(re.findall(r"""environ(?:\.get)?\(?\[?\s*["'](LEADBASE_[A-Z0-9_]+)["']""", text))
    return names


@pytest.mark.parametrize("name", sorted(_env_names_in_code()))
def test_every_environment_variable_is_documented(name):
    assert f"`{name}`" in (DOCS / "configuration.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_command_is_documented(command):
    assert f"## `leadbase {command}" in (DOCS / "cli.md").read_text(encoding="utf-8")


def test_the_readme_starts_with_the_two_quick_start_commands():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = re.findall(r"```sh\n(.+?)\n```", text)
    assert commands[:2] == ["./scripts/run", "./scripts/test"]
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
