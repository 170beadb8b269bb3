"""The RQ job and worker classes `leadbase worker` runs with Redis (``REDIS_URL``): ``retried_when``
for RQ.

The database queue's worker (``leadbase.worker``) puts a task marked ``retried_when`` back on the
queue when it fails for a reason that may pass (a confirmation email while the SMTP server is
down). RQ retries a job only when the job was given retries when it was queued, and then for
any failure. This job class decides when the task fails instead: a failure the task's
``is_temporary`` accepts gives the job the database queue's schedule (after ``RETRY_FIRST``
seconds, doubling up to ``RETRY_MOST``, ``RETRY_ATTEMPTS`` runs in all), which RQ's scheduler
(run by the worker lanes) carries out; any other failure fails the job at once, as before.
Without it a confirmation email that met a busy SMTP server was failed for good on Redis and
its person stayed pending.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from typing import Any

import redis
from django_tasks_rq.backend import Job as TaskJob
from rq import Worker as RQWorker
from rq.defaults import DEFAULT_LOGGING_DATE_FORMAT, DEFAULT_LOGGING_FORMAT
from rq.job_lifecycle import call_exception_handlers
from rq.scheduler import ForkProcess, RQScheduler

from leadbase.tasks import RETRIED, RETRY_ATTEMPTS, RETRY_FIRST, RETRY_MOST

logger = logging.getLogger("django_tasks")

#: The delays before each run after the first, as the database queue's worker waits them.
RETRY_DELAYS = [min(RETRY_FIRST * 2**n, RETRY_MOST) for n in range(RETRY_ATTEMPTS - 1)]


class Job(TaskJob):
    def perform(self) -> Any:
        try:
            return super().perform()
        except Exception as exc:
            self._plan_retry(exc)
            raise

    @property
    def failure_callback(self) -> Any:
        """None while the job will run again: the task has not finished (django-tasks' callback
        would announce it finished and failed, and log it so)."""
        return None if self.should_retry else super().failure_callback

    def _plan_retry(self, exc: BaseException) -> None:
        """Set this job's retries for RQ's worker, which reads them once the job has failed."""
        try:
            is_temporary = getattr(self.func.func, RETRIED, None)
        except Exception:  # noqa: BLE001 (the task's code is gone: nothing to retry)
            return
        if is_temporary is None:
            return  # not marked: RQ's own retries, if any were given, apply
        if not is_temporary(exc):
            self.retries_left = 0  # for good: fail now
            return
        if self.retries_left is None:  # its first failure: the whole schedule is ahead
            self.retries_left, self.retry_intervals = len(RETRY_DELAYS), list(RETRY_DELAYS)
        if self.retries_left > 0:
            logger.warning(
                "Task id=%s path=%s failed for now (%s: %s); trying again in %s s (run %s of at most %s)",
                self.id, self.func_name, type(exc).__name__, exc, self.get_retry_interval(),
                RETRY_ATTEMPTS - self.retries_left, RETRY_ATTEMPTS,
            )


#: Seconds between checks that this worker's scheduler process still runs (see ``Worker``).
SCHEDULER_CHECK = 15.0


class Scheduler(RQScheduler):
    """RQ's scheduler, in a process whose end says one line when Redis went away.

    Its process ends when Redis cannot be reached (the worker starts it again, ``Worker``). RQ's
    own process logged the error with its traceback and raised it again, which printed it a
    second time: about 135 lines per lane for each outage, burying the line that mattered.
    Any other failure still logs its traceback, once."""

    def start(self) -> Any:
        again = self._process is not None  # it ran before: Redis went away and took it down
        self._status = self.Status.STARTED
        self._connection = None  # a Redis connection cannot cross the fork (as RQ's own start)
        self._process = ForkProcess(target=run_scheduler, args=(self,), name="Scheduler")
        self._process.start()
        if again:  # said at the level its stop was, so that `serve`'s log shows both
            self.log.warning("Scheduler for %s started again", ", ".join(sorted(self._queue_names)))
        return self._process


def run_scheduler(scheduler: RQScheduler) -> None:
    """The scheduler process's body: ``scheduler.work()`` until it stops or fails; a failure
    ends the process with status 1 and one log record, not a raised exception."""
    queues = ", ".join(sorted(scheduler._queue_names))
    scheduler.log.info("Scheduler for %s started with PID %s", queues, os.getpid())
    try:
        scheduler.work()
    except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
        scheduler.log.warning(
            "Scheduler for %s stopped: Redis cannot be reached (%s); the worker starts it again once Redis answers",
            queues, exc,
        )
        sys.exit(1)
    except Exception:
        scheduler.log.exception("Scheduler for %s (PID %s) stopped on an error", queues, os.getpid())
        sys.exit(1)
    scheduler.log.info("Scheduler with PID %s has stopped", os.getpid())


class Worker(RQWorker):
    """RQ's worker, quicker to recover from Redis going away:

    - it tries Redis again every 5 s at most (RQ doubles its wait up to 60 s: emails and webhooks
      waited 44 s after Redis was back);
    - its scheduler process (delayed tasks: webhook retries, emails tried again), which dies when
      Redis goes away, is started again within ``SCHEDULER_CHECK`` seconds. RQ does it at its
      maintenance, every 10 minutes, and between two waits for a task (up to 405 s): retries due
      during an outage went out 11 minutes late. A wait lasts 20 s here;
    - that scheduler is ``Scheduler``, which says in one line why it stopped.
    """

    max_connection_wait_time = 5.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # RQ waits for a task ttl - 15 s. django-rq's rqworker always passes its own default, 420:
        # the 20 s wait was a 405 s one, and a scheduler Redis took down was started again only
        # after it (seen: none within 80 s of Redis being back).
        kwargs["worker_ttl"] = 35
        super().__init__(*args, **kwargs)
        self._scheduler_checked = time.monotonic()

    @property
    def should_run_maintenance_tasks(self) -> bool:
        if super().should_run_maintenance_tasks:
            return True
        scheduler = self.scheduler
        if scheduler is None or time.monotonic() - self._scheduler_checked < SCHEDULER_CHECK:
            return False
        self._scheduler_checked = time.monotonic()
        process = scheduler._process
        return process is None or not process.is_alive()  # run_maintenance_tasks starts it again

    def _start_scheduler(self, burst: bool = False, logging_level: str | None = "INFO",
                         date_format: str = DEFAULT_LOGGING_DATE_FORMAT,
                         log_format: str = DEFAULT_LOGGING_FORMAT) -> None:
        """RQ's (rq 3.0), with ``Scheduler``: RQ makes its scheduler here, and starts it here or,
        once it has died, through ``acquire_locks(auto_start=True)``; both run ``Scheduler.start``."""
        self.scheduler = Scheduler(
            self.queues, connection=self.connection, serializer=self.serializer,
            logging_level=logging_level if logging_level is not None else self.log.level,
            date_format=date_format, log_format=log_format,
        )
        self.scheduler.acquire_locks()
        if not self.scheduler.acquired_locks:
            return
        if not burst:
            self.scheduler.start()
            return
        try:  # a burst worker enqueues what is due now, in this process, as RQ's does
            self.scheduler.register_birth()
            self.scheduler.enqueue_scheduled_jobs()
        finally:
            self.scheduler.release_locks()
            self.scheduler.register_death()

    def teardown(self) -> None:
        """RQ's, which tells Redis this worker is gone. Stopped (SIGTERM) while Redis is away,
        that raised out of ``work``, and django-rq's command printed the bare error and exited
        with status 1 after a stop that went as asked (a service manager took it for a failure).
        Redis forgets the worker by itself once its key expires (``worker_ttl``). A worker that
        quits on its own (RQ gives up on a Redis that hangs) still fails, so it is started again."""
        try:
            super().teardown()
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            if self._shutdown_requested_date is None:  # not asked to stop: a failure
                raise
            self.log.warning("Worker %s stopped without telling Redis, which cannot be reached (%s)", self.name, exc)

    def handle_exception(self, job: Any, *exc_info: Any) -> None:
        """RQ logs every exception of a job as an error with its traceback; a job that will run
        again (``Job._plan_retry`` logged why and when) is not an error: every 15 s to an hour
        for up to four days, a busy SMTP server filled the log with tracebacks."""
        if getattr(job, "should_retry", False):
            call_exception_handlers(self._exc_handlers, job, *exc_info)
            return
        super().handle_exception(job, *exc_info)
