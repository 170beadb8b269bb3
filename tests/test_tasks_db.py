"""The database queue's rows written with a write (leadbase.tasks.enqueue_many_with_write): the
same rows ``enqueue`` writes, announced when anything would hear it."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction
from django_tasks import task
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json
from django_tasks_db.models import DBTaskResult

from leadbase.tasks import _as_json, _heard, enqueue_many_with_write

pytestmark = pytest.mark.django_db

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "other"]}}


@task()
def noted(*args, **kwargs) -> None:
    return None


@pytest.mark.parametrize("value", [
    {"args": [[1, 2, ["email_marketing"], ""], [3, 4, [], "a@example.org"]], "kwargs": {}},
    {"args": [(1, (2, 3)), None, True, 1.5, "é"], "kwargs": {"k": (4,), "nested": {"x": [b"bytes"]}}},
    {"args": [], "kwargs": {"n": 1}},
    {1: "an int key"},
])
def test_arguments_are_stored_as_normalize_json_gives_them(value):
    assert _as_json(value, normalize_json) == normalize_json(value)


def test_arguments_json_cannot_hold_are_refused_as_normalize_json_refuses_them():
    with pytest.raises(TypeError):
        _as_json({"args": [object()], "kwargs": {}}, normalize_json)


def test_the_rows_are_those_enqueue_writes(settings):
    settings.TASKS = DB_QUEUE
    later = noted.using(queue_name="other", priority=5)
    with transaction.atomic():
        enqueue_many_with_write(later, [((1, ("a", 2)), {"k": "v"}), ((), {})])
    later.enqueue(1, ("a", 2), k="v")  # autocommit: django-tasks-db's own insert
    fields = ["args_kwargs", "priority", "task_path", "queue_name", "backend_name", "run_after", "status",
              "worker_ids", "return_value", "exception_class_path", "traceback", "started_at", "finished_at"]
    rows = list(DBTaskResult.objects.order_by("enqueued_at").values(*fields))
    assert rows[0] == rows[2]
    assert rows[1]["args_kwargs"] == {"args": [], "kwargs": {}}


def test_each_row_is_announced_when_a_receiver_listens(settings):
    settings.TASKS = DB_QUEUE
    heard = []

    def receiver(sender, task_result, **kwargs):
        heard.append((task_result.id, task_result.args, task_result.task.module_path))

    assert not _heard(task_enqueued)  # django-tasks' own receiver only logs, at DEBUG
    task_enqueued.connect(receiver)
    try:
        assert _heard(task_enqueued)
        with transaction.atomic():
            enqueue_many_with_write(noted, [((7,), {}), ((8,), {})])
    finally:
        task_enqueued.disconnect(receiver)
    stored = {str(row.id): row.args_kwargs["args"] for row in DBTaskResult.objects.all()}
    assert {str(task_id): args for task_id, args, _ in heard} == stored
    assert sorted(stored.values()) == [[7], [8]]
    assert {path for _, _, path in heard} == {noted.module_path}


def test_django_tasks_log_of_each_row_is_written_when_shown(settings, caplog):
    settings.TASKS = DB_QUEUE
    with caplog.at_level(logging.DEBUG, logger="django_tasks"):
        assert _heard(task_enqueued)
        with transaction.atomic():
            enqueue_many_with_write(noted, [((1,), {}), ((2,), {})])
    enqueued = [r for r in caplog.records if r.name == "django_tasks" and "enqueued" in r.getMessage()]
    assert len(enqueued) == 2
