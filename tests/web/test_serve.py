"""`leadbase serve`: its number of web processes and threads, and its checkpoints on SQLite."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadbase.web.management.commands.serve import (
    SERVE_AUTOCHECKPOINT,
    default_web_threads,
    default_web_workers,
)


def test_one_web_process_per_core_of_eight_threads_by_default(monkeypatch):
    monkeypatch.delenv("LEADBASE_WEB_WORKERS", raising=False)
    monkeypatch.delenv("LEADBASE_WEB_THREADS", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    assert default_web_workers() == 3
    monkeypatch.setattr(os, "cpu_count", lambda: 1)  # at least two
    assert default_web_workers() == 2
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert default_web_workers() == 2
    assert default_web_threads() == 8


@pytest.mark.parametrize(
    ("name", "default", "value"),
    [("LEADBASE_WEB_WORKERS", default_web_workers, 3), ("LEADBASE_WEB_THREADS", default_web_threads, 16)],
)
def test_the_setting_wins_and_must_be_a_number(monkeypatch, name, default, value):
    monkeypatch.setenv(name, str(value))
    assert default() == value
    monkeypatch.setenv(name, "many")
    with pytest.raises(CommandError, match=f"{name} must be a whole number"):
        default()


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_serve_refuses_fewer_than_one_process_or_thread(option):
    with pytest.raises(CommandError, match=f"{option} must be at least 1"):
        call_command("serve", option, "0")


def test_serve_checkpoints_the_sqlite_log_itself_and_its_processes_only_as_a_backstop(tmp_path):
    """On SQLite, `leadbase serve` copies the write-ahead log into the database file from its own
    process, so the commits of its web and worker processes (which hold the write lock) don't."""
    data = tmp_path / "data"
    env = {**os.environ, "LEADBASE_DATA_DIR": str(data), "LEADBASE_LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "REDIS_URL", "LEADBASE_SQLITE_AUTOCHECKPOINT"):
        env.pop(name, None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "leadbase", "serve", "--port", str(port), "--workers", "1", "--threads", "1",
         "--no-worker"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "leadbase serve did not answer within 60 s"
                time.sleep(0.2)
        # The web process starts with the backstop threshold.
        web = [int(pid) for pid in subprocess.run(["pgrep", "-f", "-s", str(server.pid), "gunicorn"], check=False,
                                                  capture_output=True, text=True).stdout.split()]
        assert web
        for pid in web:
            environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
            assert f"LEADBASE_SQLITE_AUTOCHECKPOINT={SERVE_AUTOCHECKPOINT}".encode() in environ
        # A write that never checkpoints itself reaches the database file all the same.
        path = data / "leadbase.sqlite3"
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_autocheckpoint=0")
            size = path.stat().st_size
            db.execute("CREATE TABLE scratch (blob BLOB)")
            db.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 10_000,) for _ in range(200)])
            db.commit()
            assert path.stat().st_size == size  # in the log only
            deadline = time.monotonic() + 10
            while path.stat().st_size < size + 2_000_000:
                assert time.monotonic() < deadline, "serve did not checkpoint the log within 10 s"
                time.sleep(0.1)
        finally:
            db.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
