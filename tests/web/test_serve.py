"""`leadbase serve`'s number of web processes and threads."""

from __future__ import annotations

import os

import pytest
from django.core.management import CommandError, call_command

from leadbase.web.management.commands.serve import default_web_threads, default_web_workers


def test_one_web_process_per_core_of_eight_threads_by_default(monkeypatch):
    monkeypatch.delenv("LEADBASE_WEB_WORKERS", raising=False)
    monkeypatch.delenv("LEADBASE_WEB_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_web_workers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # at least two
    assert default_web_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_web_workers() == 2
    assert default_web_threads() == 8


@pytest.mark.parametrize(
    ("name", "default", "value"),
    [("LEADBASE_WEB_WORKERS", default_web_workers, 3), ("LEADBASE_WEB_THREADS", default_web_threads, 16)],
)
def test_the_setting_wins_and_must_be_a_number(monkeypatch, name, default, value):
    monkeypatch.setenv(name, str(value))
    assert default() == value
    monkeypatch.setenv(name, "many")
    with pytest.raises(CommandError, match=f"{name} must be a whole number"):
        default()


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_serve_refuses_fewer_than_one_process_or_thread(option):
    with pytest.raises(CommandError, match=f"{option} must be at least 1"):
        call_command("serve", option, "0")
