"""The RQ worker class `leadbase worker` runs with Redis (leadbase.rq_jobs.Worker): how soon it
recovers from Redis going away. RQ's own settings left retries due during an outage 11 minutes
late and mail waiting 44 s after Redis was back."""

from __future__ import annotations

import time
from types import SimpleNamespace

import redis
from rq.utils import now

from leadbase.rq_jobs import SCHEDULER_CHECK, Worker


def _worker() -> Worker:
    # No command reaches Redis here: the connection is only made when the worker works.
    return Worker(["default"], connection=redis.Redis(host="127.0.0.1", port=1), prepare_for_work=False)


def test_it_tries_redis_again_within_seconds_and_waits_for_tasks_20_s_at_a_time():
    worker = _worker()
    assert worker.max_connection_wait_time == 5.0
    assert worker.dequeue_timeout == 20  # between two waits it looks at its scheduler


class _Process:
    def __init__(self, alive: bool) -> None:
        self.alive = alive

    def is_alive(self) -> bool:
        return self.alive


def test_a_dead_scheduler_process_is_noticed_within_the_check_interval():
    worker = _worker()
    worker.last_cleaned_at = now()  # RQ's own maintenance is not due for 10 minutes
    worker.scheduler = SimpleNamespace(_process=_Process(alive=True))
    worker._scheduler_checked = time.monotonic() - SCHEDULER_CHECK - 1
    assert worker.should_run_maintenance_tasks is False  # alive: nothing to do

    worker.scheduler._process.alive = False  # Redis went away and took it down
    assert worker.should_run_maintenance_tasks is False  # checked a moment ago
    worker._scheduler_checked = time.monotonic() - SCHEDULER_CHECK - 1
    assert worker.should_run_maintenance_tasks is True  # run_maintenance_tasks starts it again


def test_a_worker_without_the_scheduler_waits_for_rq_maintenance():
    worker = _worker()
    worker.last_cleaned_at = now()
    worker._scheduler_checked = time.monotonic() - SCHEDULER_CHECK - 1
    assert worker.scheduler is None and worker.should_run_maintenance_tasks is False


def test_rqs_could_not_connect_error_is_said_once_per_interval_not_every_few_seconds():
    import logging

    from leadbase.logs import RepeatsFilter

    repeats = RepeatsFilter(300)

    def record(msg: str, at: float) -> logging.LogRecord:
        made = logging.LogRecord("rq.worker", logging.ERROR, __file__, 1, msg, ("w1", "refused", 2), None)
        made.created = at
        return made

    said = [repeats.filter(record("Worker %s: could not connect: %s retrying in %d seconds...", at))
            for at in (0, 2, 4, 299, 301)]
    assert said == [True, False, False, False, True]
    assert repeats.filter(record("Worker %s: cleaning registries %s %s", 5))  # another message
