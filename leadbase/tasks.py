"""Queue a background task as part of the write that causes it.

With the database queue (the default), the task row is inserted in the caller's transaction:
it commits or rolls back with the write, so a crash between the two can neither lose the side
effect (a confirmation email, a duplicate scan) nor run it for a write that never happened —
and it costs no second write transaction. Other queues (RQ in Redis) cannot join a database
transaction, so there the task is enqueued once the transaction commits.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import connection, transaction
from django_tasks_db import DatabaseBackend


def enqueue_with_write(task: Any, *args: Any, **kwargs: Any) -> None:
    if connection.in_atomic_block and isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args, **kwargs)
    else:
        transaction.on_commit(partial(task.enqueue, *args, **kwargs))
