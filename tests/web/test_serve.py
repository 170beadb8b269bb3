"""`leadbase serve`'s number of web processes."""

from __future__ import annotations

import os

import pytest
from django.core.management import CommandError

from leadbase.web.management.commands.serve import default_web_workers


def test_two_web_processes_per_core_by_default(monkeypatch):
    monkeypatch.delenv("LEADBASE_WEB_WORKERS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_web_workers() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # unknown: still two
    assert default_web_workers() == 2


def test_the_setting_wins_and_must_be_a_number(monkeypatch):
    monkeypatch.setenv("LEADBASE_WEB_WORKERS", "3")
    assert default_web_workers() == 3
    monkeypatch.setenv("LEADBASE_WEB_WORKERS", "three")
    with pytest.raises(CommandError, match="LEADBASE_WEB_WORKERS must be a whole number"):
        default_web_workers()
