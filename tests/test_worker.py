"""The background worker end to end, as an operator runs it: separate processes, real queues.

A lead pair is created by one process; `leadbase worker --batch` (another process) runs the
duplicate scan that was queued on commit. Once with the database queue, once with Redis + RQ.
"""

from __future__ import annotations

import fcntl
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django_tasks import task

from leadbase.tasks import enqueue_with_write, runs_many

SETUP = """
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.leads.actions import do_create_lead
do_create_user("w@example.com", "password-123", workspace_slug="w")
ws = Workspace.objects.get(slug="w")
do_create_lead(ws, {"name": "John Smith", "email": "john@smith-tools.com"}, actor=None)
do_create_lead(ws, {"name": "Jon Smith", "email": "jsmith@smith-tools.com"}, actor=None)
"""
COUNT = "from leadbase.leads.models import PossibleDuplicate; print(PossibleDuplicate.objects.count())"


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _redis_url() -> str:
    """An emptied Redis database for this test process, or skip (fail in CI) without Redis."""
    if not _redis_answers():
        if os.environ.get("LEADBASE_REQUIRE_COMPONENTS"):
            pytest.fail("Redis does not answer on 127.0.0.1:6379")
        pytest.skip("Redis does not answer on 127.0.0.1:6379 (start redis-server to run this test)")
    # One database per test process (pytest-xdist runs several): tests in one run one by one.
    number = 1 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")) % 15
    subprocess.run(["redis-cli", "-n", str(number), "flushdb"], capture_output=True)
    return f"redis://127.0.0.1:6379/{number}"


def _descendants(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    children = [int(child) for child in found.stdout.split()]
    return children + [grandchild for child in children for grandchild in _descendants(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _still_running(pids: list[int], seconds: float) -> list[int]:
    """The processes of ``pids`` still running after waiting up to ``seconds`` for them to end;
    they are killed, so a failing test leaves nothing behind."""
    deadline = time.monotonic() + seconds
    while any(Path(f"/proc/{pid}").exists() for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()]
    for pid in alive:
        os.kill(pid, 9)
    return alive


def _write_lock_is_free(data: Path, seconds: float = 0) -> bool:
    """Whether the SQLite write lock of the database in ``data`` can be taken within ``seconds``."""
    lock = os.open(data / "leadbase.sqlite3-writelock", os.O_RDWR)
    try:
        deadline = time.monotonic() + seconds
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)
    finally:
        os.close(lock)


def _migrated(tmp_path: Path, queue: str = "database") -> dict:
    """The environment of `leadbase` processes on a new, migrated database in ``tmp_path``, with
    the database queue or (``queue="redis"``) an emptied Redis database."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), EMAIL_URL="console://", DJANGO_SETTINGS_MODULE="leadbase.settings",
               LEADBASE_DUPLICATE_SCAN_DELAY="0")  # the scans these tests queue are due at once
    if queue == "redis":
        env["REDIS_URL"] = _redis_url()
    _leadbase(env, "migrate", "-v", "0")
    return env


def _leadbase(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "leadbase", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("queue", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_worker_runs_tasks_queued_by_another_process(queue, tmp_path):
    env = _migrated(tmp_path, queue)
    _leadbase(env, "shell", "--no-imports", "-c", SETUP)
    assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "0"  # queued, not run yet
    _leadbase(env, "worker", "--batch")
    assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "1"


# ---------------------------------------------------------------------------------------------
# The batch worker (leadbase/worker.py), in process, on the database queue

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "imports"]}}
RAN: list[int] = []


@task()
def remember(n: int) -> int:
    RAN.append(n)
    return n * 2


@task()
def explode() -> None:
    raise RuntimeError("boom")


@task(queue_name="imports")
def slow_import(n: int) -> int:
    RAN.append(-n)
    return n


def _worker(**options):
    from leadbase.worker import BatchWorker

    defaults = dict(
        claim=100, queue_names=["*"], interval=0, batch=True, backend_name="default",
        startup_delay=False, max_tasks=None, worker_id="test-worker", excluded_queue_names=[],
    )
    return BatchWorker(**{**defaults, **options})


@pytest.fixture
def db_queue(settings, transactional_db):
    # Real transactions: the worker closes a connection it finds inside a transaction, as a
    # long-running process should (close_old_connections), which a test transaction would be.
    settings.TASKS = DB_QUEUE
    RAN.clear()
    yield
    RAN.clear()


def test_one_transaction_claims_a_whole_batch_of_ready_tasks(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    for n in range(250):
        remember.enqueue(n)
    worker = _worker()

    claimed = worker.claim_batch()

    assert len(claimed) == 100
    running = DBTaskResult.objects.filter(status=TaskResultStatus.RUNNING)
    assert running.count() == 100
    assert all(row.worker_ids == ["test-worker"] and row.started_at for row in running)
    assert DBTaskResult.objects.ready().count() == 150


def test_after_draining_the_queue_the_worker_waits_so_the_next_batch_gathers(db_queue, monkeypatch):
    """A stream of form posts made batches of about five tasks, each with its own claim, record
    and SMTP connection; a wait after a batch that took every ready task lets the next gather."""
    from leadbase import worker as module

    for n in range(3):
        remember.enqueue(n)
    waits: list[float] = []
    lane = _worker(batch=False, interval=0.5)

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 1:
            for n in range(3, 8):  # queued while the worker waits: taken together next
                remember.enqueue(n)
        else:
            lane.running = False

    monkeypatch.setattr(module.time, "sleep", sleep)
    lane.run()

    assert RAN == list(range(8))
    assert waits == [module.GATHER_SECONDS, module.GATHER_SECONDS]  # 3 of 100 taken, then 5 of 100

    quick = _worker(batch=False, interval=0.1)  # never longer than the poll interval
    waited: list[float] = []
    monkeypatch.setattr(module.time, "sleep", lambda seconds: (waited.append(seconds), setattr(quick, "running", False)))
    remember.enqueue(8)
    quick.run()
    assert RAN[-1] == 8 and waited == [0.1]


def test_the_batch_worker_runs_everything_in_order_and_records_each_outcome(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    results = [remember.enqueue(n) for n in range(5)]
    failing = explode.enqueue()
    results += [remember.enqueue(n) for n in range(5, 230)]

    _worker().run()

    assert RAN == list(range(230))  # the failure stopped nothing; enqueue order kept
    rows = {str(row.id): row for row in DBTaskResult.objects.all()}
    assert all(rows[r.id].status == TaskResultStatus.SUCCESSFUL for r in results)
    assert rows[results[7].id].return_value == 14
    assert all(rows[r.id].finished_at for r in results)
    bad = rows[failing.id]
    assert bad.status == TaskResultStatus.FAILED
    assert bad.exception_class_path == "builtins.RuntimeError"
    assert "boom" in bad.traceback


def test_tasks_claimed_but_not_started_go_back_to_the_queue_on_shutdown(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    for n in range(10):
        remember.enqueue(n)
    worker = _worker(batch=False)
    RAN.clear()
    original = worker.run_one

    def run_one_then_stop(row):
        original(row)
        if len(RAN) == 3:
            worker.shutdown(15, None)  # SIGTERM arrives while the third task runs

    worker.run_one = run_one_then_stop
    worker.run()

    assert RAN == [0, 1, 2]
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 3
    back = DBTaskResult.objects.ready()
    assert back.count() == 7
    assert not back.filter(started_at__isnull=False).exists()
    _worker().run()  # the next worker runs them
    assert sorted(RAN) == list(range(10))


def test_imports_have_a_lane_of_their_own(db_queue):
    from django_tasks_db.models import DBTaskResult

    slow_import.enqueue(1)
    remember.enqueue(7)

    _worker(queue_names=["default"]).run()
    assert RAN == [7]  # the short task did not wait for the import
    assert DBTaskResult.objects.ready().get().task_path.endswith("slow_import")

    _worker(queue_names=["imports"], claim=1).run()
    assert RAN == [7, -1]


def test_web_imports_are_queued_on_the_imports_lane():
    from leadbase.leads.tasks import run_import

    assert run_import.queue_name == "imports"


@pytest.mark.django_db(transaction=True)
def test_leadbase_worker_runs_both_lanes_and_stops_both_on_sigterm(tmp_path):
    env = _migrated(tmp_path)
    _leadbase(env, "shell", "--no-imports", "-c", SETUP)
    worker = subprocess.Popen(
        [sys.executable, "-m", "leadbase", "worker", "--interval", "0.1"], env=env,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() != "1":
            assert time.monotonic() < deadline, "the worker did not run the queued duplicate scan"
            time.sleep(0.2)
        lanes = subprocess.run(["pgrep", "-f", "-P", str(worker.pid), "worker --queue imports"],
                               capture_output=True, text=True)
        lane = int(lanes.stdout.split()[0])  # the imports lane: a process of its own
        second = subprocess.run(["pgrep", "-f", "-P", str(worker.pid), "worker --queue default"],
                                capture_output=True, text=True)
        assert len(second.stdout.split()) == 1  # --processes 2: this one and one more
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err
    assert not Path(f"/proc/{lane}").exists()  # stopped (and reaped) with its parent
    assert not Path(f"/proc/{second.stdout.split()[0]}").exists()


OLD_TASK = """
from datetime import timedelta
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
now = timezone.now()
for days, status in ((30, "SUCCESSFUL"), (20, "FAILED"), (1, "SUCCESSFUL")):
    DBTaskResult.objects.create(args_kwargs={"args": [], "kwargs": {}}, task_path="leadbase.x", status=status,
                                enqueued_at=now - timedelta(days=days), finished_at=now - timedelta(days=days))
"""
TASKS_LEFT = "from django_tasks_db.models import DBTaskResult; print(DBTaskResult.objects.count())"


def test_the_worker_deletes_tasks_that_finished_more_than_a_week_ago(tmp_path):
    env = _migrated(tmp_path)
    _leadbase(env, "shell", "--no-imports", "-c", OLD_TASK)
    worker = subprocess.Popen([sys.executable, "-m", "leadbase", "worker", "--interval", "0.1"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while (left := _leadbase(env, "shell", "--no-imports", "-c", TASKS_LEFT).strip()) != "1":
            assert time.monotonic() < deadline, f"{left} tasks left"
            time.sleep(0.2)
    finally:
        worker.terminate()
        _, err = worker.communicate(timeout=60)
    assert worker.returncode == 0, err


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ({"processes": 0}, "--processes must be at least 1"),
        ({"claim": 0}, "--claim must be at least 1"),
        ({"interval": -1.0}, "--interval must be a number of seconds"),
        ({"interval": float("nan")}, "--interval must be a number of seconds"),
    ],
)
def test_the_worker_refuses_options_it_cannot_run_with(option, message):
    from django.core.management import CommandError, call_command

    with pytest.raises(CommandError, match=message):
        call_command("worker", **option)


CALLS: list[int] = []


def _double_many(calls):
    CALLS.append(len(calls))
    return [ValueError(f"no {args[0]}") if args[0] == 13 else args[0] * 2 for args, _ in calls]


@task()
@runs_many(_double_many)
def double(n: int) -> int:
    (value,) = _double_many([([n], {})])
    if isinstance(value, BaseException):
        raise value
    return value


def test_a_run_of_tasks_marked_runs_many_is_one_call_with_an_outcome_per_task(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    CALLS.clear()
    first = [double.enqueue(n) for n in range(10, 16)]  # 13 fails on its own
    remember.enqueue(1)  # breaks the run
    last = [double.enqueue(n) for n in range(20, 23)]

    _worker().run()

    assert CALLS == [6, 3]
    rows = {str(row.id): row for row in DBTaskResult.objects.all()}
    assert [rows[r.id].return_value for r in first + last] == [20, 22, 24, None, 28, 30, 40, 42, 44]
    failed = rows[first[3].id]
    assert failed.status == TaskResultStatus.FAILED and "no 13" in failed.traceback
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 9


def test_a_run_whose_call_fails_as_a_whole_runs_task_by_task(db_queue, monkeypatch):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    def broken(calls):
        raise OSError("the shared part failed")

    monkeypatch.setattr(double.func, "leadbase_runs_many", broken)
    CALLS.clear()
    for n in range(4):
        double.enqueue(n)

    _worker().run()

    assert CALLS == [1, 1, 1, 1]  # each on its own, through the task function
    assert DBTaskResult.objects.filter(status=TaskResultStatus.SUCCESSFUL).count() == 4


@task(priority=5)
def remember_late(n: int) -> int:
    RAN.append(n)
    return n


FIELDS = ("status", "args_kwargs", "priority", "task_path", "queue_name", "run_after", "backend_name",
          "started_at", "finished_at", "worker_ids", "return_value", "exception_class_path", "traceback")


@pytest.mark.parametrize("queued", [remember, remember_late], ids=["default", "priority"])
def test_a_task_queued_with_a_write_is_the_row_enqueue_writes_announced_as_enqueue_does(db_queue, queued):
    from django.db import transaction
    from django_tasks.signals import task_enqueued
    from django_tasks_db.models import DBTaskResult

    announced = []

    def heard(sender, task_result, **kwargs):
        announced.append((task_result.id, task_result.args, task_result.kwargs))

    task_enqueued.connect(heard)
    try:
        one = queued.enqueue(0)
        with transaction.atomic():
            enqueue_with_write(queued, 1)
            enqueue_with_write(queued, n=2)
    finally:
        task_enqueued.disconnect(heard)

    rows = list(DBTaskResult.objects.order_by("enqueued_at"))
    assert len(rows) == 3 and str(rows[0].id) == one.id and len({row.id for row in rows}) == 3
    expected = {name: getattr(rows[0], name) for name in FIELDS if name != "args_kwargs"}
    assert [{name: getattr(row, name) for name in expected} for row in rows[1:]] == [expected] * 2
    assert [row.args_kwargs for row in rows] == [
        {"args": [0], "kwargs": {}}, {"args": [1], "kwargs": {}}, {"args": [], "kwargs": {"n": 2}}
    ]
    assert announced == [(str(row.id), row.args_kwargs["args"], row.args_kwargs["kwargs"]) for row in rows]
    _worker().run()
    assert RAN == [0, 1, 2]


def test_a_task_queued_with_a_write_outside_a_transaction_is_queued_at_once(db_queue):
    from django_tasks_db.models import DBTaskResult

    enqueue_with_write(remember, 1)

    assert [row.args_kwargs["args"] for row in DBTaskResult.objects.all()] == [[1]]


@task()
def unstorable() -> object:
    return object()


def test_a_return_value_that_cannot_be_stored_fails_that_task_only(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    good = remember.enqueue(4)
    bad = unstorable.enqueue()

    _worker().run()

    assert DBTaskResult.objects.get(id=good.id).return_value == 8
    row = DBTaskResult.objects.get(id=bad.id)
    assert row.status == TaskResultStatus.FAILED
    assert "could not be stored" in row.traceback


def test_a_lane_stops_when_the_worker_that_started_it_is_gone(db_queue):
    remember.enqueue(1)
    worker = _worker(batch=False, parent=os.getppid() + 1_000_000)  # not our parent: "gone"

    worker.run()  # returns instead of polling forever

    assert RAN == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("queue", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_lanes_stop_when_their_worker_is_killed(queue, tmp_path):
    env = _migrated(tmp_path, queue)
    worker = subprocess.Popen([sys.executable, "-m", "leadbase", "worker", "--interval", "0.1"], env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            lanes = _descendants(worker.pid)  # the two lanes, and with RQ their scheduler processes
            if len([pid for pid in lanes if b"worker" in _cmdline(pid)]) == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert len([pid for pid in lanes if b"worker" in _cmdline(pid)]) == 2
        time.sleep(1)  # RQ lanes start their scheduler process
        lanes = _descendants(worker.pid)
    finally:
        worker.kill()  # SIGKILL: no chance to stop its children
        worker.wait()
    assert not _still_running(lanes, 30), "a lane outlived its killed worker"


# --- a worker that was killed ------------------------------------------------------------------


def _gone_identity() -> str:
    """The worker id a process had that has exited since."""
    from leadbase.worker import worker_identity

    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); import leadbase.worker as w; print(w.worker_identity())"],
        capture_output=True, text=True, check=True, env={**os.environ, "DJANGO_SETTINGS_MODULE": "leadbase.settings"},
    )
    assert worker_identity() != done.stdout.strip()
    return done.stdout.strip()


def test_a_worker_id_tells_whether_its_process_still_runs():
    from leadbase.worker import is_gone, worker_identity

    mine = worker_identity()
    gone = _gone_identity()

    assert len(mine) <= 64 and not is_gone(mine)
    assert is_gone(gone)
    host, pid, start, _ = mine.split("/")
    assert is_gone(f"{host}/{pid}/{int(start) + 1}/abcdef")  # the same pid, another process
    assert not is_gone(f"another-host/{pid[:-1]}/1/abcdef")  # not ours to judge
    assert not is_gone("test-worker") and not is_gone("x" * 32)  # ids of another form
    assert not is_gone(f"{host}/{pid}/0/abcdef")  # made where /proc was missing: unknown


def test_a_new_worker_puts_back_the_tasks_a_killed_worker_left_running(db_queue):
    from django_tasks_db.models import DBTaskResult, TaskResultStatus

    from leadbase.worker import worker_identity

    left = [remember.enqueue(n) for n in range(3)]
    alive = remember.enqueue(3)
    DBTaskResult.objects.filter(id__in=[r.id for r in left]).update(
        status=TaskResultStatus.RUNNING, worker_ids=[_gone_identity()]
    )
    DBTaskResult.objects.filter(id=alive.id).update(  # a worker still running it: left alone
        status=TaskResultStatus.RUNNING, worker_ids=[worker_identity()]
    )

    _worker().run()

    assert sorted(RAN) == [0, 1, 2]
    rows = {str(row.id): row for row in DBTaskResult.objects.all()}
    assert all(rows[r.id].status == TaskResultStatus.SUCCESSFUL for r in left)
    assert rows[alive.id].status == TaskResultStatus.RUNNING


IMPORT = """
import sys
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.leads.importer import do_set_import_mapping, do_start_import, do_upload_import
do_create_user("w@example.com", "password-123", workspace_slug="w")
ws = Workspace.objects.get(slug="w")
data = open(sys.argv[-1], "rb").read()
job = do_upload_import(ws, SimpleUploadedFile("big.csv", data, content_type="text/csv"), actor=None)
job = do_set_import_mapping(job, job.mapping, "", actor=None)
do_start_import(job, actor=None)
"""
JOB = """
from leadbase.leads.models import ImportJob, Lead
job = ImportJob.objects.get()
leads = Lead.objects.filter(workspace=job.workspace)
print(job.status, job.rows, job.report_path != "", leads.count())
"""
COUNT_LEADS = "from leadbase.leads.models import Lead; print(Lead.objects.count())"


@pytest.mark.django_db(transaction=True)
def test_a_web_import_whose_worker_is_killed_is_completed_by_the_next_worker(tmp_path):
    import sqlite3

    from leadbase.leads.sample import write_csv

    env = _migrated(tmp_path)
    csv = tmp_path / "big.csv"
    write_csv(csv, 100_000)
    _leadbase(env, "shell", "--no-imports", "-c", IMPORT.replace("sys.argv[-1]", repr(str(csv))))
    database = sqlite3.connect(tmp_path / "leadbase.sqlite3", timeout=30)
    lane = subprocess.Popen(
        [sys.executable, "-m", "leadbase", "worker", "--queue", "imports", "--interval", "0.1"], env=env
    )
    try:  # killed once the first batches are written
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, rows = database.execute("SELECT status, rows FROM leads_importjob").fetchone()
            if status != "queued" and rows > 0:
                break
            time.sleep(0.02)
    finally:
        lane.kill()
        lane.wait()
        database.close()
    assert status == "running" and 0 < rows < 100_000
    # Its cleaning processes die with it and hold no lock: every process's writes go on.
    assert _write_lock_is_free(tmp_path, 10), "the killed import's processes still hold the write lock"

    _leadbase(env, "worker", "--queue", "imports", "--batch")

    status, rows, report, leads = _leadbase(env, "shell", "--no-imports", "-c", JOB).split()
    assert (status, rows, report) == ("done", "100000", "True")
    # the same leads as the file imported once, without a kill: every person once
    (tmp_path / "clean").mkdir()
    clean = _migrated(tmp_path / "clean")
    _leadbase(clean, "createuser", "w@example.com", "--password", "password-123", "--workspace", "w")
    _leadbase(clean, "import", str(csv), "--workspace", "w")
    assert leads == _leadbase(clean, "shell", "--no-imports", "-c", COUNT_LEADS).strip()


KILLED_WITH_IDLE_CLEANERS = """
import multiprocessing, os, signal, time
import django
django.setup()
from django.db import transaction
from leadbase.leads.importer import _in_order
with transaction.atomic():  # holds the SQLite write lock
    results = _in_order(abs, iter([(-1,), (-2,), (-3,)]), 2)
    next(results)
    time.sleep(0.5)  # the cleaners have nothing left to do: they wait for work
    print(" ".join(str(child.pid) for child in multiprocessing.active_children()), flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_an_import_killed_while_its_cleaners_wait_leaves_no_process_and_no_lock(tmp_path):
    env = _migrated(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", KILLED_WITH_IDLE_CLEANERS], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == -9, done.stderr
    cleaners = [int(pid) for pid in done.stdout.split()]
    assert len(cleaners) == 2

    assert not _still_running(cleaners, 10), "cleaning processes outlived their killed import"
    assert _write_lock_is_free(tmp_path)


CLEANER_SIGNALS = """
import signal
import django
django.setup()
from leadbase.leads.importer import _in_order
signal.signal(signal.SIGTERM, lambda *_: None)  # as `leadbase worker`: SIGTERM stops it later
jobs = iter([(signal.SIGTERM,), (signal.SIGINT,)])
print(*(handler.name for _, handler in _in_order(signal.getsignal, jobs, 2)))
"""


def test_cleaning_processes_die_on_sigterm_even_when_forked_from_the_worker(tmp_path):
    # The pool ends its processes with SIGTERM; one that kept the worker's handler lived on, and
    # the import waited for it for ever.
    env = _migrated(tmp_path)
    done = subprocess.run(
        [sys.executable, "-c", CLEANER_SIGNALS], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.split() == ["SIG_DFL", "SIG_IGN"], done.stderr


def test_a_lane_that_stops_on_its_own_is_started_again(tmp_path):
    # A dead imports lane left every web import "Waiting for the worker…" until a restart.
    env = _migrated(tmp_path)
    worker = subprocess.Popen([sys.executable, "-m", "leadbase", "worker", "--interval", "0.1"], env=env,
                              stderr=subprocess.PIPE, text=True)

    def imports_lanes() -> list[int]:
        return [pid for pid in _descendants(worker.pid) if b"imports" in _cmdline(pid)]

    try:
        deadline = time.monotonic() + 60
        while not imports_lanes() and time.monotonic() < deadline:
            time.sleep(0.2)
        (first,) = imports_lanes()
        os.kill(first, 9)  # the out-of-memory killer, say
        while time.monotonic() < deadline:
            lanes = imports_lanes()
            if lanes and lanes != [first]:
                break
            time.sleep(0.2)
        assert lanes and first not in lanes, "the imports lane was not started again"
    finally:
        worker.terminate()
        _, stderr = worker.communicate(timeout=60)
    assert "stopped (killed by signal 9); starting it again" in stderr
    assert not _still_running(lanes, 30)


OLD_IMPORT = """
import sys
from datetime import timedelta
from django.utils import timezone
from leadbase.accounts.models import Workspace
from leadbase.leads.models import ImportJob, ImportStatus
workspace = Workspace.objects.create(name="w", slug="w")
ImportJob.objects.create(workspace=workspace, filename="old.csv", path=sys.argv[-2], report_path=sys.argv[-1],
                         status=ImportStatus.DONE, finished_at=timezone.now() - timedelta(days=31))
"""


@pytest.mark.parametrize("queue", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_imports_lane_deletes_import_files_kept_longer_than_the_days_set(queue, tmp_path):
    env = _migrated(tmp_path, queue) | {"LEADBASE_IMPORT_FILES_DAYS": "30"}
    upload, report = tmp_path / "old.csv", tmp_path / "old.report.csv"
    upload.write_text("name,email\nAda,ada@example.org\n")
    report.write_text("row,outcome,lead_id,code,message\n1,created,1,,\n")
    script = OLD_IMPORT.replace("sys.argv[-2]", repr(str(upload))).replace("sys.argv[-1]", repr(str(report)))
    _leadbase(env, "shell", "--no-imports", "-c", script)
    lane = subprocess.Popen([sys.executable, "-m", "leadbase", "worker", "--queue", "imports"], env=env)
    read = "from leadbase.leads.models import ImportJob; print(ImportJob.objects.get().files_deleted_at)"
    try:
        deadline = time.monotonic() + 60
        while (upload.exists() or report.exists()) and time.monotonic() < deadline:
            time.sleep(0.1)
        # The row is updated after the files go: stopped in between, the lane had not said so yet.
        deleted = _leadbase(env, "shell", "--no-imports", "-c", read).strip()
        while deleted in ("", "None") and time.monotonic() < deadline:
            time.sleep(0.5)
            deleted = _leadbase(env, "shell", "--no-imports", "-c", read).strip()
    finally:
        lane.terminate()
        lane.wait(30)
    assert not upload.exists() and not report.exists()
    assert deleted not in ("", "None")


def test_a_lane_that_stopped_cleanly_as_its_parent_stops_is_not_started_again(monkeypatch):
    """A stop of the whole process group (serve stopping) reached the lanes first: the parent
    started them again and logged an error for each."""
    import subprocess as sp
    import threading

    from leadbase.web.management.commands import worker

    stopped_cleanly = sp.Popen([sys.executable, "-c", "pass"])
    stopped_cleanly.wait()
    started = []

    class Running:  # what the watcher starts: a lane that runs
        def __init__(self, command):
            started.append(command)

        def poll(self):
            return None

    monkeypatch.setattr(worker.subprocess, "Popen", Running)
    stopping = threading.Event()
    watcher = threading.Thread(
        target=worker._keep_running, args=([["python", "-m", "leadbase", "worker", "--queue", "imports"]],
                                           [stopped_cleanly], stopping, 0.05),
    )
    watcher.start()
    time.sleep(0.5)  # the parent's own stop comes within the grace
    stopping.set()
    watcher.join(5)
    assert started == []

    monkeypatch.setattr(worker, "CLEAN_STOP_GRACE", 0.2)  # no stop comes: started again after it
    stopping = threading.Event()
    watcher = threading.Thread(
        target=worker._keep_running, args=([["python", "-m", "leadbase", "worker", "--queue", "imports"]],
                                           [stopped_cleanly], stopping, 0.05),
    )
    watcher.start()
    time.sleep(0.6)
    stopping.set()
    watcher.join(5)
    assert len(started) == 1  # once; the lane started runs
