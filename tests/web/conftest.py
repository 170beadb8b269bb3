"""Web test helpers: a logged-in client per persona, and small data builders."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def client_as(personas):
    """``client_as("owner")`` is a client logged in as that persona; ``"anonymous"`` is not."""

    def make(name: str) -> Client:
        client = Client()
        if name != "anonymous":
            client.force_login(getattr(personas, name))
        return client

    return make


@pytest.fixture(autouse=True)
def _imports_run_in_the_test(settings):
    # Imports clean rows in worker processes; inside a test transaction they run in-process.
    settings.IMPORT_WORKERS = 1
    # Assigning through the fixture sends setting_changed, which makes django-tasks drop a
    # backend created (and cached) before tests/conftest.py switched TASKS to immediate.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
