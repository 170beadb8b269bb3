"""Queue a background task as part of the write that causes it; mark tasks the worker may run
many at a time.

With the database queue (the default), the task row is inserted in the caller's transaction:
it commits or rolls back with the write, so a crash between the two can neither lose the side
effect (a confirmation email, a duplicate scan) nor run it for a write that never happened —
and it costs no second write transaction. RQ's queue, in Redis, cannot join a database
transaction: there the task is written to the outbox (``leadbase.outbox``) with the write, and
handed to Redis once the write has committed. A task that Redis could not take then (down for a
moment) stays in the outbox, and the worker hands it over once Redis answers
(``hand_over_waiting``): the write's side effect is late, not lost.
"""

from __future__ import annotations

import logging
import secrets
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django_tasks_db import DatabaseBackend

from leadbase.lib.outage import Outage
from leadbase.rows import insert as insert_rows
from leadbase.settings_errors import shown

logger = logging.getLogger(__name__)

MANY = "leadbase_runs_many"
RETRIED = "leadbase_retried_when"
RETRY_FIRST, RETRY_MOST, RETRY_ATTEMPTS = 15, 3600, 100  # seconds, seconds, runs (``retried_when``)


def runs_many(many: Callable[[list[tuple[list[Any], dict[str, Any]]]], list[Any]]) -> Callable:
    """Mark a task function as runnable many at a time: for a run of claimed tasks of this
    function, the worker calls ``many([(args, kwargs), ...])`` once, which returns each task's
    result, or the exception that task raised, in the same order. Put it under ``@task()``."""

    def mark(func: Callable) -> Callable:
        setattr(func, MANY, many)
        return func

    return mark


def retried_when(is_temporary: Callable[[BaseException], bool]) -> Callable:
    """Mark a task function whose failures may pass: when it raises an exception (or, run many at
    a time, gives one as its result) for which ``is_temporary`` is true, the worker puts the task
    back on the queue to run again later (``leadbase.worker``) instead of failing it: after
    ``RETRY_FIRST`` seconds, a delay that doubles up to ``RETRY_MOST``, until the task has run
    ``RETRY_ATTEMPTS`` times. Put it under ``@task()``."""

    def mark(func: Callable) -> Callable:
        setattr(func, RETRIED, is_temporary)
        return func

    return mark


def enqueue_with_write(task: Any, *args: Any, **kwargs: Any) -> None:
    """``task.enqueue(*args, **kwargs)`` in the caller's transaction (database queue), or kept in
    the outbox with it and enqueued once it commits (RQ: see the module's docstring)."""
    enqueue_many_with_write(task, [(args, kwargs)])


def enqueue_many_with_write(task: Any, calls: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> None:
    """``enqueue_with_write`` for several calls of ``task`` (each ``(args, kwargs)``), with one
    insert for them all: an import announces thousands of leads, each a webhook delivery.

    With the database queue the rows ``enqueue`` would create are written with one plain insert
    (``leadbase.rows.insert``) and announced with ``task_enqueued`` as ``enqueue`` announces them,
    when anything hears it (``_heard``). A form post with double opt-in queues a task: through
    the ORM's ``create`` its write took 7 % more instructions alone, 4 % more in a group of eight
    (callgrind); for a group of five posts this took 125 µs, now 74 µs (``_as_json``, ``_heard``).
    """
    if not calls:
        return
    backend = task.get_backend()
    backend.validate_task(task)  # a task its queue would refuse fails the write, now
    if not isinstance(backend, DatabaseBackend):
        _write_to_outbox(task, calls)
        return
    if not connection.in_atomic_block:  # autocommit: enqueue's own insert is the write
        for args, kwargs in calls:
            task.enqueue(*args, **kwargs)
        return
    from django_tasks_db.compat import normalize_json, task_enqueued
    from django_tasks_db.models import DBTaskResult, get_date_max

    rows = [
        DBTaskResult(
            id=backend._get_id(),  # the id enqueue would give it
            args_kwargs=_as_json({"args": args, "kwargs": kwargs}, normalize_json),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            # what the model's pre_save handler does on create, which a plain insert does not send
            run_after=get_date_max() if task.run_after is None else task.run_after,
            backend_name=backend.alias,
        )
        for args, kwargs in calls
    ]
    insert_rows(rows)
    if _heard(task_enqueued):
        for row in rows:
            task_enqueued.send(type(backend), task_result=row.task_result)


def _as_json(value: Any, normalize: Callable[[Any], Any]) -> Any:
    """``normalize(value)`` (django-tasks' ``normalize_json``: tuples become lists, bytes text,
    other types an error), without its cost on the lists, dicts, texts and numbers a task is
    called with: its pattern match on abstract types took 18 µs for the arguments of a group of
    five form posts' emails, a tenth of the group's write."""
    kind = type(value)
    if kind is str or kind is int or kind is float or kind is bool or value is None:
        return value
    if kind is list or kind is tuple:
        return [_as_json(item, normalize) for item in value]
    if kind is dict and all(type(key) is str for key in value):
        return {key: _as_json(item, normalize) for key, item in value.items()}
    return normalize(value)


def _heard(signal: Any) -> bool:
    """Whether sending ``task_enqueued`` can make a difference: a receiver besides django-tasks'
    own, which only logs at DEBUG, or that log shown. Its ``task_result`` is worked out again
    from the row (the task looked up by its path, its arguments normalized twice more): 33 µs,
    a fifth of queueing a group of form posts' emails, inside SQLite's write lock."""
    from django_tasks.signals import log_task_enqueued
    from django_tasks.signals import logger as tasks_logger

    if tasks_logger.isEnabledFor(logging.DEBUG):
        return True
    try:
        receivers = [ref() if isinstance(ref, weakref.ReferenceType) else ref for _, ref, *_ in signal.receivers]
    except (TypeError, ValueError):  # receivers kept another way (a newer Django): send, as enqueue does
        return True
    return any(receiver is not None and receiver is not log_task_enqueued for receiver in receivers)


def queue_problem() -> str | None:
    """Why the task queue cannot be used now, or None: with ``REDIS_URL``, a Redis that does not
    answer (the database queue is the database, checked by every command that starts)."""
    from django.conf import settings

    if not settings.REDIS_URL:
        return None
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5, socket_timeout=5).ping()
    except redis.RedisError as exc:
        return f"Redis at REDIS_URL ({shown(settings.REDIS_URL)}) does not answer: {exc}"
    return None


def _write_to_outbox(task: Any, calls: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> None:
    """Keep the calls in the outbox with the caller's write; hand them to the queue on commit.
    A write rolled back (or its savepoint) takes its rows and its commit callback with it."""
    from leadbase.outbox.models import OutboxTask

    rows = OutboxTask.objects.bulk_create(
        OutboxTask(task_path=task.module_path, args_kwargs={"args": list(args), "kwargs": kwargs},
                   run_after=task.run_after)
        for args, kwargs in calls
    )
    transaction.on_commit(partial(_hand_over_written, task, [row.pk for row in rows], calls))


def _hand_over_written(task: Any, ids: list[int], calls: Sequence[tuple[Sequence[Any], dict[str, Any]]]) -> None:
    """Hand a committed write's tasks to their queue, or leave them to the worker. Raised here,
    an error would turn the answer to a write that was kept into a 500 (the API) or a post kept
    for replay whose lead existed already (a form): it is logged, once per outage. While the
    queue is away, this process does not try again for ``QUEUE_AWAY`` seconds: a Redis that
    hangs rather than refuses took 5 s of every write's answer."""
    global _away_until
    if time.monotonic() < _away_until:
        return  # the worker hands them over
    try:
        for start in range(0, len(ids), HAND_OVER_CHUNK):
            _hand_over(
                {row_id: (task, args, kwargs) for row_id, (args, kwargs)
                 in zip(ids[start : start + HAND_OVER_CHUNK], calls[start : start + HAND_OVER_CHUNK])}
            )
    except Exception as exc:  # noqa: BLE001 (Redis away: the rows stay for the worker)
        _away_until = time.monotonic() + QUEUE_AWAY
        if (lasting := queue_away.failed()) is not None:
            logger.warning(
                "The task queue does not take tasks now%s (%s: %s): writes are kept, and their tasks (%s "
                "first) wait in the outbox, where the worker finds them once the queue answers.",
                lasting, type(exc).__name__, exc, task.module_path,
            )
        return
    if (lasted := queue_away.answered()) is not None:
        logger.warning("The task queue takes tasks again, after %.0f s", lasted)


#: Tasks handed over per claim.
HAND_OVER_CHUNK = 500
#: How long a claim on outbox rows holds: a process that dies while handing them over leaves
#: them to another after this.
CLAIM_LEASE = timedelta(seconds=60)
#: Seconds a process leaves the handing over to the worker after its queue failed it.
QUEUE_AWAY = 15.0
_away_until = 0.0
#: This process's view of its task queue: said when it goes away, every five minutes while it
#: stays away, and when it answers again.
queue_away = Outage(every=300.0)


def _hand_over(tasks: dict[int, tuple[Any, Sequence[Any], dict[str, Any]]]) -> int:
    """Enqueue the tasks of outbox rows (``tasks``: by row id, the task and how to call it) and
    delete their rows; returns how many. The rows are claimed first, in a short statement of
    their own, so that no database transaction waits on the queue and no other process hands
    the same rows over (a claim lasts ``CLAIM_LEASE``). On an error from the queue, the rows not
    handed over are released for the next try, and the error is raised."""
    from leadbase.outbox.models import OutboxTask

    token, now = secrets.token_hex(8), timezone.now()
    free = Q(claim="") | Q(claimed_at__lt=now - CLAIM_LEASE)
    if not OutboxTask.objects.filter(free, pk__in=tasks).update(claim=token, claimed_at=now):
        return 0
    mine = sorted(OutboxTask.objects.filter(pk__in=tasks, claim=token).values_list("pk", flat=True))
    done: list[int] = []
    try:
        for row_id in mine:
            task, args, kwargs = tasks[row_id]
            task.enqueue(*args, **kwargs)
            done.append(row_id)
    finally:
        OutboxTask.objects.filter(pk__in=done, claim=token).delete()
        if len(done) < len(mine):
            OutboxTask.objects.filter(pk__in=mine[len(done) :], claim=token).update(claim="", claimed_at=None)
    return len(done)


#: How old a task of the outbox must be before the worker hands it over: one younger is most
#: likely in the hands of the process that wrote it, right after its commit (a claim would stop
#: the two from both queueing it; this only saves the work).
OUTBOX_AGE = timedelta(seconds=5)


def hand_over_waiting(older_than: timedelta = OUTBOX_AGE, limit: int = 10_000) -> int:
    """Give the tasks left in the outbox (their queue did not answer when their write committed)
    to their queue, oldest first, up to ``limit``; returns how many. Raises the queue's error
    when it does not take them (still away): those not handed over wait for the next call."""
    from leadbase.outbox.models import OutboxTask

    ids = list(
        OutboxTask.objects.filter(written_at__lte=timezone.now() - older_than)
        .order_by("pk").values_list("pk", flat=True)[:limit]
    )
    handed, now = 0, timezone.now()
    for start in range(0, len(ids), HAND_OVER_CHUNK):
        tasks = {}
        for row in OutboxTask.objects.filter(pk__in=ids[start : start + HAND_OVER_CHUNK]).order_by("pk"):
            try:
                task = import_string(row.task_path)
            except ImportError:  # its code is gone (an upgrade): kept, and the others go on
                logger.error("Task %s of the outbox (%s) no longer exists; it is not queued", row.pk, row.task_path)
                continue
            if row.run_after is not None and row.run_after > now:
                task = task.using(run_after=row.run_after)
            tasks[row.pk] = (task, row.args_kwargs["args"], row.args_kwargs["kwargs"])
        if tasks:
            handed += _hand_over(tasks)
    return handed


#: Finished task rows deleted per statement by ``delete_old_task_results``: each delete is a
#: short write of its own, so the form posts queued for SQLite's write lock meanwhile wait for
#: one chunk, not for the whole of a day's rows.
DELETE_CHUNK = 500


def delete_old_task_results(now: datetime | None = None) -> int:
    """Delete the database queue's tasks that finished (succeeded or failed) more than
    ``TASK_RESULTS_DAYS`` days ago; returns how many. Run by the worker every hour.

    Every form post's group of a burst leaves a finished task (its confirmation emails), and
    django-tasks-db keeps them all: a day of steady posts is millions of rows. The table has no
    index on the time a task finished (one more for every post's write to keep), so each chunk is
    one statement that reads the table from its start, where the oldest rows are, and stops at
    ``DELETE_CHUNK`` of them.
    """
    from django.conf import settings
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    days = settings.TASK_RESULTS_DAYS
    if days <= 0:
        return 0
    before = (now or timezone.now()) - timedelta(days=days)
    table, quote = DBTaskResult._meta.db_table, connection.ops.quote_name
    sql = (
        f"DELETE FROM {quote(table)} WHERE {quote('id')} IN (SELECT {quote('id')} FROM {quote(table)} "
        f"WHERE {quote('status')} IN (%s, %s) AND {quote('finished_at')} < %s LIMIT {DELETE_CHUNK})"
    )
    when = connection.ops.adapt_datetimefield_value(before)
    deleted = 0
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [TaskResultStatus.SUCCESSFUL.value, TaskResultStatus.FAILED.value, when])
            count = cursor.rowcount
        deleted += count
        if count < DELETE_CHUNK:
            return deleted
