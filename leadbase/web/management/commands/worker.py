"""leadbase worker: run background tasks (emails, webhooks, duplicate scans, web imports) only.

Two lanes, so that a confirmation email never waits behind an import that runs for minutes:
``--queue default`` runs the short tasks, ``--queue imports`` runs web imports, and the default
``--queue all`` runs the short tasks in this process and starts a second process for imports.
``--batch`` runs everything queued, in this one process, then exits.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from leadbase.lib.outage import Outage
from leadbase.logs import RepeatsFilter
from leadbase.tasks import OUTBOX_AGE, hand_over_waiting, queue_problem
from leadbase.worker import DEFAULT_CLAIM, IMPORTS_QUEUE, BatchWorker, worker_identity

QUEUES = ("all", "default", IMPORTS_QUEUE)
logger = logging.getLogger(__name__)


def _stop_when_gone(parent: int, every: float = 1.0) -> None:
    """SIGTERM this process once ``parent`` is no longer its parent (it died, even by SIGKILL).

    For an RQ lane, whose loop cannot be told to look: RQ stops on SIGTERM after the job in hand.
    The database lane checks in its own loop (leadbase.worker).
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(every)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


#: A lane is started again at most this many times a minute (one that cannot start is not
#: started in a tight loop).
LANE_RESTARTS_PER_MINUTE = 5
#: Seconds a lane that stopped cleanly (exit status 0) waits before it is started again.
CLEAN_STOP_GRACE = 10.0


def _keep_running(commands: list[list[str]], children: list[subprocess.Popen], stopping: threading.Event,
                  every: float = 1.0) -> None:
    """Start again a lane that stopped on its own (killed, out of memory): without it a dead
    imports lane left every web import "Waiting for the worker…" until a restart, and nothing
    said so. ``children`` is updated in place, so the caller stops the lanes running now."""
    restarts: list[list[float]] = [[] for _ in commands]
    waiting: list[float | None] = [None for _ in commands]  # since when a lane waits to be started
    clean: list[float | None] = [None for _ in commands]  # since when a lane is seen stopped cleanly
    while not stopping.wait(every):
        for n, child in enumerate(children):
            code = child.poll()
            if code is None or stopping.is_set():
                continue
            now, lane = time.monotonic(), " ".join(commands[n][4:6])
            if code == 0:
                # A lane stops cleanly when told to: a stop of the whole process group (serve
                # stopping) reaches the lanes a moment before it reaches this process, which
                # started them again and said so as an error. Such a lane waits a little first.
                clean[n] = clean[n] or now
                if now - clean[n] < CLEAN_STOP_GRACE:
                    continue
            clean[n] = None
            how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
            restarts[n] = [at for at in restarts[n] if now - at < 60]
            if len(restarts[n]) >= LANE_RESTARTS_PER_MINUTE:
                if waiting[n] is None:
                    waiting[n] = now
                    logger.error(
                        "The worker lane %r stopped again (%s), %s times within a minute; starting it "
                        "again in %.0f s", lane, how, LANE_RESTARTS_PER_MINUTE + 1, 60 - (now - restarts[n][0]),
                    )
                continue
            restarts[n].append(now)
            if waiting[n] is None:
                logger.error("The worker lane %r stopped (%s); starting it again", lane, how)
            else:
                logger.error("The worker lane %r, stopped for %.0f s, is started again", lane, now - waiting[n])
                waiting[n] = None
            children[n] = subprocess.Popen(commands[n])


#: How often the imports lane deletes import files older than LEADBASE_IMPORT_FILES_DAYS, and
#: the other lanes finished tasks older than LEADBASE_TASK_RESULTS_DAYS.
OLD_FILES_EVERY = 3600.0
#: How often a lane looks for tasks left in the outbox (their queue, Redis, did not answer).
OUTBOX_EVERY = 15.0


def _repeat(job: Callable[[], None], what: str, every: float, stopping: threading.Event) -> None:
    """Run ``job`` now and then every ``every`` seconds until ``stopping``, in this thread."""
    from django.db import connection

    while not stopping.is_set():
        try:
            job()
        except Exception:  # the database or Redis away for a moment: tried again next round
            logger.exception("Could not %s; trying again in %.0f s", what, every)
        finally:
            connection.close()  # this thread's own connection: not held open between rounds
        stopping.wait(every)


def _in_background(job: Callable[[], None], what: str, every: float) -> None:
    threading.Thread(
        target=_repeat, args=(job, what, every, threading.Event()), name=job.__name__.strip("_"), daemon=True
    ).start()


def _delete_old_import_files() -> None:
    """``importer.delete_old_import_files``, run by the imports lane: that lane runs on the
    machine that holds the uploads (README, several machines)."""
    from leadbase.leads.importer import delete_old_import_files

    deleted = delete_old_import_files()
    if deleted:
        logger.info("Deleted the files of %s import(s) older than %s days", deleted, settings.IMPORT_FILES_DAYS)


def _delete_old_task_results() -> None:
    """``tasks.delete_old_task_results``, run by the lanes of the database queue but the
    imports one (every lane that runs it deletes what is left, at most an hour's worth)."""
    from leadbase.tasks import delete_old_task_results

    deleted = delete_old_task_results()
    if deleted:
        logger.info("Deleted %s task(s) that finished more than %s days ago", deleted, settings.TASK_RESULTS_DAYS)


#: Seconds between two reminders of one problem that lasts (Redis away).
REPEATS_EVERY = 300.0
#: This lane's view of the queue, as it hands the outbox over.
_outbox_outage = Outage(every=REPEATS_EVERY)


def _hand_over_waiting(older_than: timedelta = OUTBOX_AGE) -> None:
    """``tasks.hand_over_waiting``, run by every lane: whichever runs hands the tasks over. A
    queue that does not take them is said once, then every ``REPEATS_EVERY`` seconds."""
    try:
        handed = hand_over_waiting(older_than)
    except Exception as exc:  # noqa: BLE001 (Redis away: said in one line, not a traceback a round)
        if (lasting := _outbox_outage.failed()) is not None:
            logger.warning("Tasks wait in the outbox: their queue does not take them%s (%s: %s)",
                           lasting, type(exc).__name__, exc)
        return
    # Nothing handed over may mean another lane holds the rows, not that Redis answered: "takes
    # tasks again" was said three times during a two-minute outage.
    if _outbox_outage.lasting and (handed or not queue_problem()):
        logger.warning("The task queue takes tasks again, after %.0f s", _outbox_outage.answered() or 0)
    if handed:
        logger.warning("Queued %s task(s) that waited in the outbox for their queue to answer", handed)


def _wait_for_queue(every: float = 2.0) -> None:
    """Return once Redis answers; said when it does not, then every ``REPEATS_EVERY`` seconds."""
    problem, said = queue_problem(), None
    while problem:
        now = time.monotonic()
        if said is None or now - said >= REPEATS_EVERY:
            logger.warning("%s; this worker waits for it (writes keep their tasks in the outbox meanwhile)", problem)
            said = now
        time.sleep(every)
        problem = queue_problem()
    if said is not None:
        logger.warning("Redis answers; the worker starts")


class Command(BaseCommand):
    help = (
        "Run background tasks only, for scale-out. Uses the database queue, or RQ workers when "
        "REDIS_URL is set. Imports run in a process of their own. Stops cleanly on SIGTERM after "
        "the task in hand."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue", choices=QUEUES, default="all",
                            help="which tasks: all (default: short tasks here, imports in a second process), "
                                 "default (short tasks only) or imports (web imports only)")
        parser.add_argument("--interval", type=float, default=0.5,
                            help="seconds between polls of an empty database queue")
        parser.add_argument("--claim", type=int, default=DEFAULT_CLAIM,
                            help="tasks claimed per database transaction (database queue)")
        parser.add_argument("--processes", type=int, default=2,
                            help="processes running the short tasks with --queue all (default 2: one "
                                 "sends emails while the other waits on its SMTP server or the database)")
        parser.add_argument("--batch", action="store_true", help="run what is queued, then exit")
        parser.add_argument("--parent", type=int, default=0, help=argparse.SUPPRESS)  # stop when it is gone
        parser.add_argument("--no-scheduler", action="store_true", help=argparse.SUPPRESS)  # RQ: a lane runs it

    def handle(self, *args, **options):
        # As django-tasks-db's worker: quiet at verbosity 0, but a failing task is still logged.
        level = {0: logging.WARNING, 1: logging.INFO}.get(options["verbosity"], logging.DEBUG)
        for name in ("django_tasks", "django_tasks_db"):
            logging.getLogger(name).setLevel(level)
        if not 0 <= options["interval"] < float("inf"):
            raise CommandError("--interval must be a number of seconds, 0 or more")
        for name in ("claim", "processes"):
            if options[name] < 1:
                raise CommandError(f"--{name} must be at least 1")
        queue, batch = options["queue"], options["batch"]
        if queue == "all" and not batch:
            self._with_imports_lane(options)
            return
        queues = ["*"] if queue == "all" else [queue]
        if settings.REDIS_URL:
            if options["parent"]:
                _stop_when_gone(options["parent"])
            if batch:
                if problem := queue_problem():  # else RQ's bare "Error 111 connecting to …", exit 1
                    raise CommandError(problem)
            else:
                # A lane started again while Redis is down waits for it: one that stopped made
                # serve start it again and again, and then stop, web server included.
                _wait_for_queue()
        if batch or not settings.REDIS_URL:
            # All of them, before the run; on the database queue, only tasks left by a time with
            # Redis (its tasks are written with their writes): once is enough.
            _hand_over_waiting(older_than=timedelta(0))
        if not batch:
            if settings.REDIS_URL:
                _in_background(_hand_over_waiting, "queue the tasks left in the outbox", OUTBOX_EVERY)
            if queue == IMPORTS_QUEUE:
                _in_background(_delete_old_import_files, "delete old import files", OLD_FILES_EVERY)
            if not settings.REDIS_URL and queue != IMPORTS_QUEUE:  # (RQ expires its own results)
                _in_background(_delete_old_task_results, "delete old finished tasks", OLD_FILES_EVERY)
        if settings.REDIS_URL:
            names = ["default", IMPORTS_QUEUE] if queue == "all" else [queue]
            # RQ says "could not connect to Redis instance" every few seconds while Redis is down
            logging.getLogger("rq.worker").addFilter(RepeatsFilter(REPEATS_EVERY))
            call_command(
                "rqworker", *names, job_class="leadbase.rq_jobs.Job", worker_class="leadbase.rq_jobs.Worker",  # retried_when
                with_scheduler=not batch and not options["no_scheduler"],
                burst=batch, verbosity=options["verbosity"],
            )
            return
        worker = BatchWorker(
            claim=1 if queue == IMPORTS_QUEUE else options["claim"],  # imports: one at a time
            queue_names=queues, interval=options["interval"], batch=batch,
            backend_name="default", startup_delay=False, max_tasks=None,
            worker_id=worker_identity(), excluded_queue_names=[], parent=options["parent"],
        )
        worker.configure_signals()
        if not batch:  # a lane that runs on: the start's objects, out of every full collection's
            gc.collect()  # walk (as in leadbase.wsgi), its garbage collected first
            gc.freeze()
        worker.run()

    def _with_imports_lane(self, options) -> None:
        """Short tasks in this process and ``--processes`` - 1 others; imports in one more; the
        children are stopped with this one."""
        common = ["--interval", str(options["interval"]), "--verbosity", str(options["verbosity"]),
                  "--parent", str(os.getpid())]
        lanes = [[IMPORTS_QUEUE]] + [["default", "--claim", str(options["claim"])]] * (options["processes"] - 1)
        commands = [[sys.executable, "-m", "leadbase", "worker", "--queue", *lane, *common] for lane in lanes]
        children = [subprocess.Popen(command) for command in commands]
        stopping = threading.Event()
        threading.Thread(
            target=_keep_running, args=(commands, children, stopping), name="lanes-watch", daemon=True
        ).start()
        try:
            # RQ runs its scheduler (delayed tasks: webhook retries) in a process forked from the
            # worker, which would outlive this one if it were SIGKILLed; the lanes stop theirs.
            call_command("worker", queue="default", interval=options["interval"], claim=options["claim"],
                         batch=False, verbosity=options["verbosity"], no_scheduler=options["processes"] > 1)
        finally:
            stopping.set()
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    child.kill()
