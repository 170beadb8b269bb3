"""Queue a background task as part of the write that causes it; mark tasks the worker may run
many at a time.

With the database queue (the default), the task row is inserted in the caller's transaction:
it commits or rolls back with the write, so a crash between the two can neither lose the side
effect (a confirmation email, a duplicate scan) nor run it for a write that never happened —
and it costs no second write transaction. Other queues (RQ in Redis) cannot join a database
transaction, so there the task is enqueued once the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import connection, transaction
from django_tasks_db import DatabaseBackend


MANY = "leadbase_runs_many"


def runs_many(many: Callable[[list[tuple[list[Any], dict[str, Any]]]], list[Any]]) -> Callable:
    """Mark a task function as runnable many at a time: for a run of claimed tasks of this
    function, the worker calls ``many([(args, kwargs), ...])`` once, which returns each task's
    result, or the exception that task raised, in the same order. Put it under ``@task()``."""

    def mark(func: Callable) -> Callable:
        setattr(func, MANY, many)
        return func

    return mark


def enqueue_with_write(task: Any, *args: Any, **kwargs: Any) -> None:
    if connection.in_atomic_block and isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))
