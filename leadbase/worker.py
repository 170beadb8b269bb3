"""The database queue's worker: many short tasks per write transaction, imports on their own lane.

django-tasks-db's worker claims one task per exclusive transaction and marks it done in another.
On SQLite every write transaction queues for the one write lock, behind each web process's form
posts, so under a burst of posts the worker got a transaction now and then and confirmation
emails fell minutes behind. This worker claims up to ``claim`` ready tasks in one transaction,
runs them, and records their results together in one more: two lock turns per batch instead of
two per task.

Under a steady stream of form posts the queue never stays empty, and claiming whatever was
ready made batches of about five tasks (a group of posts queues one), each with its own claim,
record, queries and SMTP connection. After a batch that drained the queue the worker waits
``GATHER_SECONDS`` (at most ``--interval``) before claiming again: a task queued while the
worker is idle still runs at the next poll, and under a stream the batches are several times
larger. On the form benchmark with double opt-in the worker's CPU per post went from
0.62–0.66 to 0.48–0.50 ms (alternating, two pairs), and the confirmation emails arrived 0.2 s
later (p50; p99 1.1 s), far inside the 5 s they have.

Tasks run in the order django-tasks-db gives them (priority, then run-after, then enqueued).
A task that takes long holds up the others claimed with it, which is why imports, that run for
minutes, have their own queue (``IMPORTS_QUEUE``) and their own worker process (see
``leadbase worker``): a confirmation email never waits behind an import.

On SIGTERM the task in hand finishes, its result and those already run are recorded, and the
tasks claimed but not started go back to the queue, ready for the next worker.

A worker that is killed (SIGKILL, out of memory, the machine reset) cannot give its tasks back:
they would stay "running" for ever, and a web import would show "Importing…" for ever. So a
worker's id says which process it is (``worker_identity``: host, process id and the process's
start time), and every worker, when it starts, puts back on the queue the tasks left running by
a worker of its own machine that no longer runs. Those tasks run again from the start: an
import completes what the killed run left (re-importing rows already written changes nothing),
an email may be sent twice rather than never.

A task marked ``retried_when`` (``leadbase.tasks``) that fails for a reason that may pass (an
email while the SMTP server is down) goes back on the queue, due again after a delay that
doubles from ``RETRY_FIRST`` seconds up to ``RETRY_MOST``, until it has run ``RETRY_ATTEMPTS``
times (about four days); only then is it failed.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import time
import traceback
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.db.utils import OperationalError
from django.utils import timezone
from django.utils.crypto import get_random_string
from django_tasks_db.compat import TaskContext, task_finished, task_started
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult, TaskResultStatus
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

from leadbase import mail
from leadbase.tasks import MANY, RETRIED, RETRY_ATTEMPTS, RETRY_FIRST, RETRY_MOST

IMPORTS_QUEUE = "imports"
DEFAULT_CLAIM = 100
#: After a batch that took every ready task (fewer than ``claim``), the wait before the next
#: claim, so that tasks queued meanwhile are taken together (see the module's docstring).
GATHER_SECONDS = 0.25

logger = logging.getLogger("django_tasks_db")


def _started(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), or None when there is
    no such process. With the id, it names one process: ids are reused, start times are not."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return stat.rsplit(b")", 1)[1].split()[19].decode()  # field 22; the name may hold spaces


def worker_identity() -> str:
    """This process as a worker id: ``host/pid/start/random`` (at most 64 characters, as
    django-tasks-db allows)."""
    pid = os.getpid()
    return f"{socket.gethostname()[:30]}/{pid}/{_started(pid) or 0}/{get_random_string(6)}"


def is_gone(worker_id: str) -> bool:
    """True when ``worker_id`` is a worker of this machine (``worker_identity``) that no longer
    runs; False for one that runs, one of another machine, or an id of another form."""
    host, _, rest = worker_id.partition("/")
    pid, _, rest = rest.partition("/")
    start = rest.partition("/")[0]
    if host != socket.gethostname()[:30] or not pid.isdigit() or start in ("", "0"):
        return False  # another machine's, or a system without /proc: not ours to judge
    return _started(int(pid)) != start


def _update_rows(rows: list[DBTaskResult], fields: list[str]) -> None:
    """Save ``fields`` of ``rows`` with one executemany. ``bulk_update`` would build a CASE
    expression per row and field: most of the worker's time for a batch of short tasks."""
    meta = DBTaskResult._meta
    columns = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    sql = (
        f"UPDATE {quote(meta.db_table)} SET {', '.join(f'{quote(f.column)} = %s' for f in columns)} "
        f"WHERE {quote(meta.pk.column)} = %s"
    )
    params = [
        [f.get_db_prep_save(getattr(row, f.attname), connection) for f in columns]
        + [meta.pk.get_db_prep_value(row.pk, connection)]
        for row in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


class BatchWorker(Worker):
    def __init__(self, *, claim: int = DEFAULT_CLAIM, parent: int = 0, **options: Any) -> None:
        super().__init__(**options)
        self.claim = claim
        self.parent = parent  # a lane started by `leadbase worker`: stop when that process is gone

    def _ready(self) -> Any:
        tasks = DBTaskResult.objects.ready().filter(backend_name=self.backend_name)
        if not self.process_all_queues:
            tasks = tasks.filter(queue_name__in=self.queue_names)
        if self.excluded_queue_names:
            tasks = tasks.exclude(queue_name__in=self.excluded_queue_names)
        return tasks

    def claim_batch(self) -> list[DBTaskResult] | None:
        """Up to ``claim`` ready tasks, marked running for this worker in one transaction; None
        when the database was locked (try again), [] when nothing is ready."""
        tasks = self._ready()
        try:
            with exclusive_transaction(tasks.db):
                batch = list(tasks.select_for_update(skip_locked=True)[: self.claim])
                now = timezone.now()
                for row in batch:
                    row.status, row.started_at = TaskResultStatus.RUNNING, now
                    row.worker_ids = [*row.worker_ids, self.worker_id]
                if batch:
                    _update_rows(batch, ["status", "started_at", "worker_ids"])
        except OperationalError as exc:
            if is_locked_database_exception(exc):
                return None
            raise
        return batch

    def recover(self) -> int:
        """Put back on the queue the tasks of this worker's queues that a gone worker of this
        machine left running (see the module's docstring); returns how many."""
        running = DBTaskResult.objects.filter(backend_name=self.backend_name, status=TaskResultStatus.RUNNING)
        if not self.process_all_queues:
            running = running.filter(queue_name__in=self.queue_names)
        left = [row.id for row in running.only("id", "worker_ids") if row.worker_ids and is_gone(row.worker_ids[-1])]
        if not left:
            return 0
        with exclusive_transaction(DBTaskResult.objects.db):
            count = DBTaskResult.objects.filter(id__in=left, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )
        logger.warning("Put back on the queue %s task(s) left running by a worker that is gone", count)
        return count

    def run(self) -> None:
        logger.info("Starting worker worker_id=%s queues=%s", self.worker_id, ",".join(self.queue_names))
        self.recover()
        while self.running:
            if self.parent and os.getppid() != self.parent:
                logger.warning("The worker that started this one is gone; stopping")
                return
            close_old_connections()
            batch = self.claim_batch()
            if batch:
                self.run_batch(batch)
            elif batch is not None and self.batch:
                logger.info("No more tasks to run for worker_id=%s - exiting gracefully.", self.worker_id)
                return
            if self.max_tasks is not None and self._run_tasks >= self.max_tasks:
                return
            close_old_connections()
            if self.running and not batch:
                time.sleep(self.interval)
            elif self.running and len(batch) < self.claim and not self.batch:
                time.sleep(min(GATHER_SECONDS, self.interval))  # drained: let the next batch gather

    def run_batch(self, batch: list[DBTaskResult]) -> None:
        done: list[DBTaskResult] = []
        try:
            with mail.shared_connection():  # the batch's emails share one SMTP connection
                index = 0
                while index < len(batch):
                    stop = self.max_tasks is not None and self._run_tasks >= self.max_tasks
                    if not self.running or stop:
                        self.release(batch[index:])
                        break
                    run = self._run_of_many(batch, index)
                    if len(run) > 1:
                        self.run_many(run)
                    else:
                        self.run_one(batch[index])
                    done.extend(run)
                    index += len(run)
        finally:
            self.record(done)

    def _run_of_many(self, batch: list[DBTaskResult], index: int) -> list[DBTaskResult]:
        """The run of tasks from ``index`` that share a function marked ``runs_many`` (or just
        the task at ``index``)."""
        first = batch[index]
        try:
            many = getattr(first.task.func, MANY, None)
        except Exception:  # noqa: BLE001 (code gone: run_one records why)
            many = None
        end = index + 1
        if many is not None:
            limit = index + 1 + (len(batch) if self.max_tasks is None else self.max_tasks - self._run_tasks - 1)
            while end < min(len(batch), limit) and batch[end].task_path == first.task_path:
                end += 1
        return batch[index:end]

    def run_many(self, rows: list[DBTaskResult]) -> None:
        """Run claimed tasks of one ``runs_many`` function with one call; if that call itself
        fails, each task is run on its own so that one bad task cannot fail the others."""
        self.running_task = True
        try:
            task = rows[0].task
            results = [row.task_result for row in rows]
            for result in results:
                task_started.send(sender=type(task.get_backend()), task_result=result)
            values = getattr(task.func, MANY)([(list(r.args), dict(r.kwargs)) for r in results])
            if len(values) != len(rows):
                raise RuntimeError(f"{task.name} ran {len(rows)} tasks but gave {len(values)} results")
        except Exception:
            logger.exception("Tasks %s failed together; running them one by one", rows[0].task_path)
            self.running_task = False
            for row in rows:
                self.run_one(row)
            return
        now = timezone.now()
        for row, value in zip(rows, values):
            if isinstance(value, BaseException):
                self._failed(row, value)
            else:
                row.status, row.return_value = TaskResultStatus.SUCCESSFUL, value
                row.exception_class_path = row.traceback = ""
            row.finished_at = None if row.status == TaskResultStatus.READY else now
        self.running_task = False
        self._run_tasks += len(rows)

    def run_one(self, row: DBTaskResult) -> None:
        """Run one claimed task and set its outcome on ``row`` (saved later by ``record``)."""
        self.running_task = True
        try:
            task = row.task
            result = row.task_result
            task_started.send(sender=type(task.get_backend()), task_result=result)
            if task.takes_context:
                value = task.call(TaskContext(task_result=result), *result.args, **result.kwargs)
            else:
                value = task.call(*result.args, **result.kwargs)
            row.status, row.return_value = TaskResultStatus.SUCCESSFUL, value
            row.exception_class_path = row.traceback = ""
        except BaseException as exc:  # noqa: BLE001 (recorded on the task, as django-tasks-db does)
            self._failed(row, exc)
        finally:
            row.finished_at = None if row.status == TaskResultStatus.READY else timezone.now()
            self.running_task = False
            self._run_tasks += 1

    @staticmethod
    def _failed(row: DBTaskResult, exc: BaseException) -> None:
        """Set ``row`` failed by ``exc``, or back on the queue for later when its task is
        ``retried_when`` ``exc`` may pass and it has runs left (saved by ``record``)."""
        row.return_value = None
        row.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
        row.traceback = "".join(traceback.format_exception(exc))
        try:
            is_temporary = getattr(row.task.func, RETRIED, None)
        except Exception:  # noqa: BLE001 (code gone: nothing to retry)
            is_temporary = None
        runs = len(row.worker_ids)
        if is_temporary is not None and runs < RETRY_ATTEMPTS and is_temporary(exc):
            delay = min(RETRY_FIRST * 2 ** max(runs - 1, 0), RETRY_MOST)
            row.status, row.started_at = TaskResultStatus.READY, None
            row.run_after = timezone.now() + timedelta(seconds=delay)
            logger.warning(
                "Task id=%s path=%s failed for now (%s: %s); trying again in %s s (run %s of at most %s)",
                row.id, row.task_path, type(exc).__name__, exc, delay, runs, RETRY_ATTEMPTS,
            )
            return
        row.status = TaskResultStatus.FAILED
        logger.error("Task id=%s failed: %s: %s", row.id, row.exception_class_path, exc)

    def record(self, done: list[DBTaskResult]) -> None:
        """Save the outcomes of ``done`` in one transaction, then tell the listeners."""
        if not done:
            return
        fields = [
            "status", "return_value", "finished_at", "exception_class_path", "traceback",
            "started_at", "run_after",  # of a task put back on the queue (``_failed``)
        ]
        for attempt in range(1, 21):
            try:
                with exclusive_transaction(DBTaskResult.objects.db):
                    try:
                        with transaction.atomic():
                            _update_rows(done, fields)  # one statement
                    except (TypeError, ValueError):  # a return value JSON cannot hold: row by row
                        for row in done:
                            self._save_outcome(row, fields)
                break
            except OperationalError as exc:
                if not is_locked_database_exception(exc) or attempt == 20:
                    raise
                time.sleep(0.05 * attempt)
        for row in done:
            if row.status == TaskResultStatus.READY:  # to run again later (``_failed``): not finished
                continue
            try:
                task_finished.send(sender=type(row.task.get_backend()), task_result=row.task_result)
            except Exception:  # a task whose code is gone cannot be described; it is recorded
                logger.exception("Task id=%s finished but could not be announced", row.id)

    def _save_outcome(self, row: DBTaskResult, fields: list[str]) -> None:
        try:
            with transaction.atomic():  # a failed save must not break the batch's transaction
                row.save(update_fields=fields)
        except (TypeError, ValueError) as exc:
            row.status, row.return_value = TaskResultStatus.FAILED, None
            row.exception_class_path = f"{type(exc).__module__}.{type(exc).__qualname__}"
            row.traceback = f"the task's return value could not be stored: {exc}"
            row.save(update_fields=fields)

    def release(self, rows: list[DBTaskResult]) -> None:
        """Put claimed tasks that were not started back on the queue."""
        if not rows:
            return
        ids = [row.id for row in rows]
        with exclusive_transaction(DBTaskResult.objects.db):
            DBTaskResult.objects.filter(id__in=ids, status=TaskResultStatus.RUNNING).update(
                status=TaskResultStatus.READY, started_at=None
            )

    def shutdown(self, signum: int, frame: Any) -> None:
        # Unlike the parent, never exit in the middle of a batch: the claimed tasks must go back.
        if not self.running:
            if not self.running_task:  # Ctrl-C reaches the lanes, then serve's SIGTERM: already stopping
                return
            super().shutdown(signum, frame)  # a second signal during a task: stop now
            return
        # An expected stop, said once per process and naming its lane (three alike looked like a fault).
        logger.info("Worker (queues %s) stopping after the task in hand (%s)", ",".join(self.queue_names),
                    signal.strsignal(signum))
        self.running = False
