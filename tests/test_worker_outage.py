"""`leadbase` with its task queue away: writes are kept, their tasks wait in the outbox, and the
worker hands them over once Redis answers (the database queue's worker: tests/test_worker.py)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from tests.test_worker import COUNT, SETUP, _leadbase, _migrated


def redis_server() -> str:
    """The path of redis-server, for a test that starts and stops a Redis of its own; skips the
    test where it is not installed (fails it in CI)."""
    found = shutil.which("redis-server")
    if found is None:
        if os.environ.get("LEADBASE_REQUIRE_COMPONENTS"):
            pytest.fail("redis-server is not installed")
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    return found


def test_a_write_is_kept_and_answered_when_its_queue_cannot_be_reached(tmp_path):
    # With RQ, tasks are queued once the write commits; Redis down then made the committed
    # write's answer an error (a 500 from the API for a lead that was created).
    env = _migrated(tmp_path)
    with socket.socket() as s:  # a port where no Redis listens
        s.bind(("127.0.0.1", 0))
        env["REDIS_URL"] = f"redis://127.0.0.1:{s.getsockname()[1]}/0"
    done = subprocess.run(
        [sys.executable, "-m", "leadbase", "shell", "--no-imports", "-c", SETUP + "print('written')"],
        env=env, capture_output=True, text=True, timeout=120,
    )

    assert done.returncode == 0 and "written" in done.stdout, done.stderr
    assert "does not take tasks now" in done.stderr and "scan_possible_duplicates" in done.stderr
    assert "Traceback" not in done.stderr  # expected, and the task is not lost: one line
    del env["REDIS_URL"]
    count = "from leadbase.leads.models import Lead; print(Lead.objects.count())"
    assert _leadbase(env, "shell", "--no-imports", "-c", count).strip() == "2"
    assert _leadbase(env, "shell", "--no-imports", "-c", WAITING).split() == ["leadbase.leads.tasks.scan_possible_duplicates"]


WAITING = "from leadbase.outbox.models import OutboxTask; print(*OutboxTask.objects.values_list('task_path', flat=True))"


@pytest.mark.redis
def test_a_task_redis_could_not_take_runs_once_redis_answers(tmp_path):
    # Before the outbox, the duplicate scan (or a confirmation email, a webhook) was lost for good.
    env = _migrated(tmp_path, "redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        down = env | {"REDIS_URL": f"redis://127.0.0.1:{s.getsockname()[1]}/0"}
    _leadbase(down, "shell", "--no-imports", "-c", SETUP)
    assert _leadbase(env, "shell", "--no-imports", "-c", WAITING).split() == ["leadbase.leads.tasks.scan_possible_duplicates"]

    worker = subprocess.run([sys.executable, "-m", "leadbase", "worker", "--batch"], env=env,
                            capture_output=True, text=True, timeout=120)

    assert worker.returncode == 0, worker.stderr
    assert "Queued 1 task(s) that waited in the outbox" in worker.stderr
    assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "1"  # the scan ran
    assert _leadbase(env, "shell", "--no-imports", "-c", WAITING).strip() == ""



@pytest.mark.redis
def test_serve_with_redis_down_takes_writes_and_its_worker_runs_their_tasks_once_redis_is_up(tmp_path):
    # serve refused to start; later, a worker started again while Redis was down made serve stop,
    # web server included. Now the tasks wait in the outbox and the worker waits for Redis.
    server_binary = redis_server()
    env = _migrated(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        redis_port = s.getsockname()[1]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        web_port = s.getsockname()[1]
    env |= {"REDIS_URL": f"redis://127.0.0.1:{redis_port}/0", "LEADBASE_LOG_LEVEL": "WARNING"}
    serve = subprocess.Popen([sys.executable, "-m", "leadbase", "serve", "--port", str(web_port)], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    redis = None
    try:
        assert serve.stdout.readline().startswith("Leadbase is running on"), serve.stderr.read()
        with socket.create_connection(("127.0.0.1", web_port), timeout=5):
            pass  # said once it listens
        _leadbase(env, "shell", "--no-imports", "-c", SETUP)  # its duplicate scan waits in the outbox
        assert _leadbase(env, "shell", "--no-imports", "-c", WAITING).split() == ["leadbase.leads.tasks.scan_possible_duplicates"]
        time.sleep(3)
        assert serve.poll() is None  # still serving, its worker waiting for Redis

        redis = subprocess.Popen([server_binary, "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                                  "--appendonly", "no"], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() != "1" and time.monotonic() < deadline:
            time.sleep(1)
        assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "1", "the scan did not run"
        assert _leadbase(env, "shell", "--no-imports", "-c", WAITING).strip() == ""
    finally:
        os.killpg(serve.pid, signal.SIGTERM)
        _, stderr = serve.communicate(timeout=60)
        if redis is not None:
            redis.terminate()
            redis.wait(10)
    assert "does not answer" in stderr and "forms and the API take writes" in stderr
    assert "this worker waits for it" in stderr and "Redis answers; the worker starts" in stderr
    assert "stopped" not in stderr.replace("stopping after", "")  # no lane died for it
