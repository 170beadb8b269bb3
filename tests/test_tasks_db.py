"""The database queue's rows: written with a write (leadbase.tasks.enqueue_many_with_write) and
announced when anything would hear it; deleted some days after they finished
(leadbase.tasks.delete_old_task_results)."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.signals import task_enqueued
from django_tasks.utils import normalize_json
from django_tasks_db.models import DBTaskResult

from leadbase import tasks
from leadbase.tasks import _as_json, _heard, delete_old_task_results, enqueue_many_with_write

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


def test_nothing_but_django_tasks_own_debug_log_listens_by_default_and_a_receiver_is_heard():
    # (tests/test_worker.py: the rows are those enqueue writes, announced as enqueue announces them)
    assert not _heard(task_enqueued)

    def receiver(sender, task_result, **kwargs):
        return None

    task_enqueued.connect(receiver)
    try:
        assert _heard(task_enqueued)
    finally:
        task_enqueued.disconnect(receiver)
    assert not _heard(task_enqueued)


def test_django_tasks_log_of_each_row_is_written_when_shown(settings, caplog):
    settings.TASKS = DB_QUEUE
    with caplog.at_level(logging.DEBUG, logger="django_tasks"):
        assert _heard(task_enqueued)
        with transaction.atomic():
            enqueue_many_with_write(noted, [((1,), {}), ((2,), {})])
    enqueued = [r for r in caplog.records if r.name == "django_tasks" and "enqueued" in r.getMessage()]
    assert len(enqueued) == 2


def _task(status: str, finished_days_ago: float | None, enqueued_days_ago: float = 9) -> DBTaskResult:
    now = timezone.now()
    return DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}}, task_path=noted.module_path, status=status,
        enqueued_at=now - timedelta(days=enqueued_days_ago),
        finished_at=None if finished_days_ago is None else now - timedelta(days=finished_days_ago),
    )


def test_tasks_that_finished_days_ago_are_deleted_and_the_others_kept(settings):
    settings.TASK_RESULTS_DAYS = 7
    old = [_task("SUCCESSFUL", 8), _task("FAILED", 7.01)]
    kept = [_task("SUCCESSFUL", 6.9), _task("FAILED", 1), _task("READY", None), _task("RUNNING", None)]
    assert delete_old_task_results() == 2
    assert set(DBTaskResult.objects.values_list("id", flat=True)) == {t.id for t in kept}
    assert not DBTaskResult.objects.filter(id__in=[t.id for t in old]).exists()


def test_they_are_deleted_a_chunk_at_a_time_until_none_is_left(settings, monkeypatch):
    settings.TASK_RESULTS_DAYS = 7
    monkeypatch.setattr(tasks, "DELETE_CHUNK", 2)
    for _ in range(5):
        _task("SUCCESSFUL", 10)
    recent = _task("SUCCESSFUL", 0.5)
    assert delete_old_task_results() == 5
    assert list(DBTaskResult.objects.values_list("id", flat=True)) == [recent.id]


def test_zero_days_keeps_every_task(settings):
    settings.TASK_RESULTS_DAYS = 0
    _task("SUCCESSFUL", 400)
    assert delete_old_task_results() == 0
    assert DBTaskResult.objects.count() == 1
