"""Test configuration: fast hashing, immediate tasks, in-memory mail; personas and factories.

Personas (healthchecks-style): one workspace ``acme`` with an owner, a marketer, a sales rep and
a viewer, plus an outsider who belongs to another workspace. Every permission test reads alike.
"""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test.signals import setting_changed


def pytest_configure(config: pytest.Config) -> None:
    if not settings.configured:  # run with -p no:django (the pure tests/lib suite)
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "imports"]}}
    # Task backends were already created while the apps loaded; this makes django_tasks drop them.
    setting_changed.send(sender=None, setting="TASKS", value=settings.TASKS, enter=True)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"


@pytest.fixture
def personas(db):
    from tests.factories import make_personas

    return make_personas()


@pytest.fixture
def client_as(personas):
    """``client_as("owner")`` is a client logged in as that persona; ``"anonymous"`` is not."""
    from django.test import Client

    def make(name: str) -> Client:
        client = Client()
        if name != "anonymous":
            client.force_login(getattr(personas, name))
        return client

    return make


@pytest.fixture
def immediate_tasks(settings) -> None:
    """Tasks run at once, by a backend built for this test: one built while the apps loaded
    would keep the settings of that moment."""
    from tests.receiver import IMMEDIATE_TASKS

    settings.TASKS = IMMEDIATE_TASKS


@pytest.fixture
def receiver():  # type: ignore[no-untyped-def]
    """A real HTTP receiver of webhook deliveries on 127.0.0.1 (``tests.receiver``)."""
    from tests.receiver import running_receiver

    with running_receiver() as running:
        yield running
