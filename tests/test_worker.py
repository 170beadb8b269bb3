"""The background worker end to end, as an operator runs it: separate processes, real queues.

A lead pair is created by one process; `leadbase worker --batch` (another process) runs the
duplicate scan that was queued on commit. Once with the database queue, once with Redis + RQ.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

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


def _leadbase(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "leadbase", *args], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.parametrize("queue", ["database", pytest.param("redis", marks=pytest.mark.redis)])
def test_the_worker_runs_tasks_queued_by_another_process(queue, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), EMAIL_URL="console://", DJANGO_SETTINGS_MODULE="leadbase.settings")
    if queue == "redis":
        if not _redis_answers():
            if os.environ.get("LEADBASE_REQUIRE_COMPONENTS"):
                pytest.fail("Redis does not answer on 127.0.0.1:6379")
            pytest.skip("Redis does not answer on 127.0.0.1:6379 (start redis-server to run this test)")
        env["REDIS_URL"] = f"redis://127.0.0.1:6379/{9 + os.getpid() % 6}"
        subprocess.run(["redis-cli", "-n", env["REDIS_URL"].rsplit("/", 1)[1], "flushdb"], capture_output=True)
    _leadbase(env, "migrate", "-v", "0")
    _leadbase(env, "shell", "--no-imports", "-c", SETUP)
    assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "0"  # queued, not run yet
    _leadbase(env, "worker", "--batch")
    assert _leadbase(env, "shell", "--no-imports", "-c", COUNT).strip() == "1"
