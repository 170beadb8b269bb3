"""The RQ worker class `leadbase worker` runs with Redis (leadbase.rq_jobs.Worker): how soon it
recovers from Redis going away. RQ's own settings left retries due during an outage 11 minutes
late and mail waiting 44 s after Redis was back."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from types import SimpleNamespace

import pytest
import redis
from rq.utils import now

from leadbase.rq_jobs import SCHEDULER_CHECK, Worker


def _worker() -> Worker:
    # No command reaches Redis here: the connection is only made when the worker works. No
    # retries, so a test that does reach it fails at once.
    return Worker(["default"], connection=redis.Redis(host="127.0.0.1", port=1, retry=None), prepare_for_work=False)


def test_it_tries_redis_again_within_seconds_and_waits_for_tasks_20_s_at_a_time():
    worker = _worker()
    assert worker.max_connection_wait_time == 5.0
    assert worker.dequeue_timeout == 20  # between two waits it looks at its scheduler
    # django-rq's rqworker, which `leadbase worker` calls, passes its default of 420 s
    given = Worker(["default"], connection=redis.Redis(host="127.0.0.1", port=1), prepare_for_work=False,
                   worker_ttl=420)
    assert given.dequeue_timeout == 20


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


def test_a_new_cause_of_could_not_connect_is_said_at_once():
    """Redis back with another password was hidden five minutes behind "Connection refused"."""
    import logging

    from leadbase.logs import RepeatsFilter

    repeats = RepeatsFilter(300)
    msg = "Worker %s: could not connect to Redis instance: %s retrying in %d seconds..."

    def record(cause: Exception, at: float) -> logging.LogRecord:
        made = logging.LogRecord("rq.worker", logging.ERROR, __file__, 1, msg, ("w1", cause, 2), None)
        made.created = at
        return made

    refused = redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6411. Connection refused.")
    wrong = redis.exceptions.AuthenticationError("invalid username-password pair or user is disabled.")
    said = [repeats.filter(record(cause, at)) for cause, at in ((refused, 0), (refused, 4), (wrong, 6), (wrong, 9))]
    assert said == [True, False, True, False]


def test_a_worker_stopped_while_redis_is_away_stops_cleanly(caplog):
    """Its goodbye to Redis raised out of ``work``: django-rq printed the bare error and exited 1."""
    import logging

    worker = _worker()  # Redis on a port nothing listens on
    with pytest.raises(redis.exceptions.ConnectionError):  # quitting on its own is a failure still
        worker.teardown()
    worker._shutdown_requested_date = now()  # what RQ's SIGTERM handler notes
    with caplog.at_level(logging.WARNING, logger="rq.worker"):
        worker.teardown()
    assert "stopped without telling Redis, which cannot be reached" in caplog.text


def test_a_scheduler_that_loses_redis_says_so_in_one_line_and_ends_with_status_1(caplog, monkeypatch):
    """RQ's scheduler process logged the error with its traceback and raised it again, printed a
    second time: about 135 lines per lane for each Redis outage."""
    import logging

    from leadbase.rq_jobs import Scheduler, run_scheduler

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens there once the socket is closed
    scheduler = Scheduler(["default"], connection=redis.Redis(host="127.0.0.1", port=closed, retry=None))
    monkeypatch.setattr(scheduler, "_install_signal_handlers", lambda: None)  # they would be pytest's
    with caplog.at_level(logging.INFO, logger="rq.scheduler"), pytest.raises(SystemExit) as ended:
        run_scheduler(scheduler)
    assert ended.value.code == 1
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and warnings[0].exc_info is None
    assert "Scheduler for default stopped: Redis cannot be reached (Error 111" in warnings[0].getMessage()


@pytest.mark.redis
def test_the_workers_scheduler_stops_quietly_when_redis_goes_and_starts_again_when_it_is_back(tmp_path):
    from tests.test_worker_outage import redis_server

    server = redis_server()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), EMAIL_URL="console://", DJANGO_SETTINGS_MODULE="leadbase.settings",
               REDIS_URL=f"redis://127.0.0.1:{port}/0")
    subprocess.run([sys.executable, "-m", "leadbase", "migrate", "-v", "0"], env=env, check=True, timeout=120)

    def redis_up() -> subprocess.Popen:
        started = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                    "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if redis.Redis(host="127.0.0.1", port=port).ping():
                    return started
            except redis.exceptions.ConnectionError:
                time.sleep(0.1)
        raise AssertionError("redis-server did not start")

    store = redis_up()
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        worker = subprocess.Popen([sys.executable, "-m", "leadbase", "worker", "--queue", "default"], env=env,
                                  stderr=out)

    def wait_for(text: str, times: int, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while log.read_text().count(text) < times and time.monotonic() < deadline:
            time.sleep(0.2)
        return log.read_text()

    try:
        assert wait_for("Scheduler for default started", 1, 60).count("Scheduler for default started with PID") == 1
        store.terminate()
        store.wait(10)
        said = wait_for("Redis cannot be reached", 1, 30)
        assert "Scheduler for default stopped: Redis cannot be reached" in said
        time.sleep(3)  # the worker tries Redis again meanwhile
        store = redis_up()
        said = wait_for("Scheduler for default started with PID", 2, 40)  # SCHEDULER_CHECK (15 s), a wait (20 s)
    finally:
        worker.terminate()
        stopped = worker.wait(60)
        store.terminate()
        store.wait(10)
    assert stopped == 0
    assert said.count("Scheduler for default started with PID") == 2, said
    assert "WARNING rq.scheduler: Scheduler for default started again" in said  # seen at serve's level
    assert "Traceback" not in said and "Process Scheduler" not in said, said


def test_the_outbox_check_says_the_queue_is_back_only_when_redis_answers(monkeypatch, caplog):
    """A lane that found the waiting rows in another lane's hands took that for Redis answering:
    "takes tasks again" three times during a two-minute outage."""
    import logging

    from leadbase.lib.outage import Outage
    from leadbase.web.management.commands import worker as command

    outcomes = iter([ConnectionError("refused"), 0, 0, 2])
    answers = iter(["Redis at REDIS_URL (redis://127.0.0.1:6411/0) does not answer: refused", None])

    def hand_over(older_than):
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    monkeypatch.setattr(command, "hand_over_waiting", hand_over)
    monkeypatch.setattr(command, "queue_problem", lambda: next(answers))
    monkeypatch.setattr(command, "_outbox_outage", Outage(every=300.0))
    with caplog.at_level(logging.WARNING):
        command._hand_over_waiting()  # Redis away
        command._hand_over_waiting()  # nothing handed over, and Redis still does not answer
        assert "takes tasks again" not in caplog.text
        command._hand_over_waiting()  # nothing handed over, but Redis answers
        assert caplog.text.count("takes tasks again") == 1
        command._hand_over_waiting()
    assert caplog.text.count("takes tasks again") == 1 and "Queued 2 task(s)" in caplog.text
