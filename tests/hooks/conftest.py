"""Webhook test helpers: a real HTTP receiver on 127.0.0.1, endpoints, and a task queue to step.

Tasks run at once (the immediate backend), as in the rest of the suite.
``receiver`` (tests/conftest.py) is a real HTTP receiver on 127.0.0.1.
``queue`` swaps the immediate task backend for the dummy one, which keeps what is enqueued
(with its ``run_after``) so a test can run the "worker" one step at a time.
"""

from __future__ import annotations

import pytest

from leadbase.hooks.actions import do_create_endpoint
from leadbase.hooks.models import Endpoint


@pytest.fixture(autouse=True)
def _immediate_tasks(immediate_tasks) -> None:
    pass


@pytest.fixture
def endpoint(personas, receiver) -> Endpoint:
    """An endpoint of acme pointing at the receiver, subscribed to every event."""
    return do_create_endpoint(personas.workspace, receiver.url, [], actor=personas.owner)


@pytest.fixture
def queue(settings, django_capture_on_commit_callbacks):
    """The dummy task backend: tasks are kept, not run. ``queue.run()`` runs what is queued
    (ignoring ``run_after``, like a worker whose clock has moved on) until nothing is left."""
    from django_tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "imports"]}}
    return Queue(task_backends["default"], django_capture_on_commit_callbacks)


class Queue:
    def __init__(self, backend, commits) -> None:  # type: ignore[no-untyped-def]
        self.backend = backend
        self.commits = commits

    @property
    def results(self) -> list:
        return self.backend.results

    def run(self, limit: int = 50) -> int:
        """Run queued tasks in order, including the ones they queue; the number run."""
        done = 0
        while self.backend.results and done < limit:
            result = self.backend.results.pop(0)
            # Each task commits as it would in a worker, so what it queues on commit is queued.
            with self.commits(execute=True):
                result.task.call(*result.args, **result.kwargs)
            done += 1
        return done
