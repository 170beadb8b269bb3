"""The outbox (leadbase.outbox): with a queue outside the database (RQ in Redis), a task is written
with the write that causes it and handed to the queue once that commits; one the queue did not
take then waits for the worker, and is queued once, late but not lost.

A queue that can be made to refuse stands in for Redis here; tests/test_worker.py runs the same
with a Redis that does not answer, then with one that does."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from django_tasks import task
from django_tasks.backends.dummy import DummyBackend

from leadbase import tasks
from leadbase.lib.outage import Outage
from leadbase.outbox.models import OutboxTask
from leadbase.tasks import enqueue_many_with_write, enqueue_with_write, hand_over_waiting

pytestmark = pytest.mark.django_db


class RefusingBackend(DummyBackend):
    """The dummy backend (it keeps what is queued, in ``results``), refusing while ``down``."""

    down = False

    def enqueue(self, task, args, kwargs):  # type: ignore[no-untyped-def]
        if RefusingBackend.down:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")
        return super().enqueue(task, args, kwargs)


@task()
def remember(n: int, note: str = "") -> int:
    return n


@pytest.fixture
def queue(settings, monkeypatch):
    from django_tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "tests.test_outbox.RefusingBackend", "QUEUES": ["default"]}}
    monkeypatch.setattr(tasks, "_away_until", 0.0)  # a queue failed by another test is no reason here
    monkeypatch.setattr(tasks, "queue_away", Outage(every=300.0))
    RefusingBackend.down = False
    yield task_backends["default"]
    RefusingBackend.down = False


def queued(backend) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(tuple(r.args), r.kwargs) for r in backend.results]


def test_a_task_is_kept_with_its_write_and_handed_over_on_commit(queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_with_write(remember, 1, note="a")
            assert OutboxTask.objects.count() == 1  # in the write's transaction
            assert queued(queue) == []  # not before the commit

    assert queued(queue) == [((1,), {"note": "a"})]
    assert not OutboxTask.objects.exists()
    assert hand_over_waiting(older_than=timedelta(0)) == 0  # nothing queued twice


def test_a_write_rolled_back_queues_nothing(queue, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_with_write(remember, 1)
            try:
                with transaction.atomic():  # a savepoint, rolled back with its task
                    enqueue_with_write(remember, 2)
                    raise ValueError
            except ValueError:
                pass

    assert queued(queue) == [((1,), {})]
    assert not OutboxTask.objects.exists()


def test_a_task_the_queue_refuses_waits_and_the_worker_queues_it_once_later(
    queue, django_capture_on_commit_callbacks, caplog
):
    RefusingBackend.down = True
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_many_with_write(remember, [((1,), {}), ((2,), {"note": "b"})])

    assert queued(queue) == []  # the write is kept; its tasks wait
    assert OutboxTask.objects.count() == 2
    assert "wait in the outbox" in caplog.text and "tests.test_outbox.remember" in caplog.text
    assert hand_over_waiting() == 0  # younger than OUTBOX_AGE: maybe in its writer's hands still
    with pytest.raises(ConnectionError):  # still down: nothing handed over, nothing lost
        hand_over_waiting(older_than=timedelta(0))
    assert list(OutboxTask.objects.values_list("claim", flat=True)) == ["", ""]  # free for the next try

    # For a while this process leaves them to the worker: a Redis that hangs cost each write 5 s.
    caplog.clear()
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_with_write(remember, 3)
    assert OutboxTask.objects.count() == 3 and caplog.text == ""

    RefusingBackend.down = False  # the queue is back
    OutboxTask.objects.update(written_at=timezone.now() - timedelta(minutes=1))
    assert hand_over_waiting() == 3
    assert queued(queue) == [((1,), {}), ((2,), {"note": "b"}), ((3,), {})]
    assert not OutboxTask.objects.exists()
    assert hand_over_waiting(older_than=timedelta(0)) == 0


def test_a_process_whose_queue_stays_away_says_so_once_then_that_it_is_back(
    queue, django_capture_on_commit_callbacks, caplog, monkeypatch
):
    """Said every QUEUE_AWAY seconds in each web process, it was 39 of an outage's 55 lines."""
    RefusingBackend.down = True
    for n in range(3):  # three writes, each after this process's pause
        monkeypatch.setattr(tasks, "_away_until", 0.0)
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_with_write(remember, n)
    assert caplog.text.count("does not take tasks now") == 1

    monkeypatch.setattr(tasks.queue_away, "_said", tasks.queue_away._said - 300.0)  # five minutes on
    monkeypatch.setattr(tasks, "_away_until", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_with_write(remember, 3)
    assert caplog.text.count("does not take tasks now") == 2 and "does not take tasks now (for " in caplog.text

    RefusingBackend.down = False
    monkeypatch.setattr(tasks, "_away_until", 0.0)
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_with_write(remember, 4)
    assert "The task queue takes tasks again, after" in caplog.text
    assert queued(queue) == [((4,), {})] and OutboxTask.objects.count() == 4  # the others: the worker's


def test_request_threads_that_meet_a_refusing_queue_together_say_it_once(monkeypatch, caplog):
    import threading
    import time as clock

    def refused(_tasks):  # type: ignore[no-untyped-def]
        clock.sleep(0.01)  # long enough for every thread to fail before any has said so
        raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks, "_hand_over", refused)
    monkeypatch.setattr(tasks, "_away_until", 0.0)
    monkeypatch.setattr(tasks, "queue_away", Outage(every=300.0))
    threads = [threading.Thread(target=tasks._hand_over_written, args=(remember, [n], [((n,), {})])) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert caplog.text.count("does not take tasks now") == 1


def test_a_task_handed_over_keeps_its_time_to_run(queue, django_capture_on_commit_callbacks):
    later = timezone.now() + timedelta(hours=1)
    RefusingBackend.down = True
    with django_capture_on_commit_callbacks(execute=True):
        enqueue_with_write(remember.using(run_after=later), 3)
        enqueue_with_write(remember.using(run_after=timezone.now() - timedelta(hours=1)), 4)
    RefusingBackend.down = False

    assert hand_over_waiting(older_than=timedelta(0)) == 2
    run_after = {r.args[0]: r.task.run_after for r in queue.results}
    assert run_after == {3: later, 4: None}  # a time already past: at once


def test_a_task_whose_code_is_gone_is_kept_and_the_others_are_handed_over(queue, caplog):
    OutboxTask.objects.create(task_path="leadbase.nowhere.gone", args_kwargs={"args": [], "kwargs": {}})
    OutboxTask.objects.create(task_path=remember.module_path, args_kwargs={"args": [5], "kwargs": {}})

    assert hand_over_waiting(older_than=timedelta(0)) == 1
    assert queued(queue) == [((5,), {})]
    assert list(OutboxTask.objects.values_list("task_path", flat=True)) == ["leadbase.nowhere.gone"]
    assert "no longer exists" in caplog.text


def test_the_database_queue_writes_no_outbox_row(settings, django_capture_on_commit_callbacks):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            enqueue_many_with_write(remember, [((6,), {}), ((7,), {})])
    assert not OutboxTask.objects.exists()
    assert sorted(DBTaskResult.objects.values_list("args_kwargs__args__0", flat=True)) == [6, 7]


def test_a_row_another_process_is_handing_over_is_left_to_it_until_its_claim_lapses(queue):
    OutboxTask.objects.create(task_path=remember.module_path, args_kwargs={"args": [7], "kwargs": {}},
                              claim="other", claimed_at=timezone.now())

    assert hand_over_waiting(older_than=timedelta(0)) == 0 and queued(queue) == []
    OutboxTask.objects.update(claimed_at=timezone.now() - tasks.CLAIM_LEASE - timedelta(seconds=1))
    assert hand_over_waiting(older_than=timedelta(0)) == 1  # that process died while at it
    assert queued(queue) == [((7,), {})] and not OutboxTask.objects.exists()
