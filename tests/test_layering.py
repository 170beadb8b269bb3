"""The arrows point one way: web | api | cli | worker → actions / queries → models → lib."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "leadbase"


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


LIB = sorted((PACKAGE / "lib").glob("*.py"))
MODELS = sorted(PACKAGE.glob("*/models.py"))


@pytest.mark.parametrize("path", LIB, ids=lambda p: p.name)
def test_lib_is_pure_python_without_django_or_the_apps(path):
    bad = {m for m in _imports(path) if m.startswith("django") or (m.startswith("leadbase.") and not m.startswith("leadbase.lib"))}
    assert not bad, f"{path.name} imports {bad}"


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.parent.name)
def test_models_do_not_import_actions_queries_or_views(path):
    bad = {m for m in _imports(path) if m.rsplit(".", 1)[-1] in ("actions", "queries", "views", "api", "tasks")}
    assert not bad, f"{path} imports {bad}"


ACTIONS = sorted([*PACKAGE.glob("*/actions.py"), *PACKAGE.glob("*/actions/*.py")])


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_actions_do_not_return_http_responses(path):
    bad = {m for m in _imports(path) if m.startswith(("django.http", "django.shortcuts", "ninja"))}
    assert not bad, f"{path} imports {bad}"
