"""leadbase serve: migrate, then run the web server (granian) and the background worker side by side.

The web server is granian, in WSGI mode: its HTTP handling is compiled code that runs without
Python's global interpreter lock, which a web process's request threads otherwise share with the
server's own connection handling. Measured on 2 cores against gunicorn's threaded workers (the
server before it; same application, processes and threads): a form post of the form benchmark
cost 4.7 million instructions over the whole machine instead of 5.85 million (``perf stat -a``,
runs of 20,000 less runs of 10,000 posts); in 5 alternating pairs of runs the benchmark took
more posts per second in 4, by 16 % at the median; for an empty WSGI application the server's
own CPU per request was 0.10 ms against 0.61 ms.
"""

from __future__ import annotations

import errno
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from leadbase.accounts.setup import ensure_first_login
from leadbase.settings import env as settings_env
from leadbase.sqlite_backend.base import checkpoint
from leadbase.tasks import queue_problem

log = logging.getLogger(__name__)

#: ``wal_autocheckpoint`` of the processes ``serve`` starts on SQLite, which checkpoints itself.
#: The log can only start over once a checkpoint has copied all of it, which under a steady write
#: load ``serve``'s checkpoints rarely catch: the commit that takes the log past this many pages
#: (16 MB of 4 KB pages) copies what is left, a fraction of it, and the log starts over.
SERVE_AUTOCHECKPOINT = 4096
#: ``LEADBASE_SQLITE_MMAP_MB`` of the processes ``serve`` starts on SQLite: their reads of the
#: database file go through a memory map of this size. With double opt-in, the form benchmark
#: took 3-8 % more posts per second so (alternating, two pairs): the web processes spent about
#: 4 % of their CPU in read() calls for pages another process's commit had made them drop.
SERVE_MMAP_MB = 256
#: The web server's logging: the access log on standard output, its own messages on standard error.
LOG_CONFIG = Path(__file__).resolve().parents[2] / "granian-logging.json"
#: A worker that stops on its own is started again, up to this many times within this many seconds.
WORKER_RESTARTS = 5
WORKER_RESTART_WINDOW = 60.0


def sqlite_defaults() -> dict[str, str]:
    """The SQLite settings ``serve`` gives its processes, those not set (or set empty, which
    every setting reads as not set; a ``…_FILE`` counts as set)."""
    wanted = {"LEADBASE_SQLITE_AUTOCHECKPOINT": SERVE_AUTOCHECKPOINT, "LEADBASE_SQLITE_MMAP_MB": SERVE_MMAP_MB}
    return {name: str(value) for name, value in wanted.items() if not settings_env(name)}


def default_web_workers() -> int:
    """$LEADBASE_WEB_WORKERS, else one per core (at least 2): ``settings.WEB_WORKERS``."""
    return settings.WEB_WORKERS


def default_web_threads() -> int:
    """$LEADBASE_WEB_THREADS, else 8: ``settings.WEB_THREADS``.

    Threads rather than processes: form posts that arrive together in one process are written
    in one transaction (leadbase.capture.intake), so the more of them a process holds, the
    fewer transactions queue for SQLite's write lock. Measured on 2 cores: 2 processes of 8
    threads took about 30 % more form posts per second than 4 of 4 on gunicorn, and on granian
    10-50 % more in two alternating pairs, a run of 10,000 posts taking 12-15 % fewer
    instructions in all; 2 of 16 were no better than 2 of 8.
    """
    return settings.WEB_THREADS


def web_command(options: dict) -> list[str]:
    """The web server's command line: ``--workers`` processes of ``--threads`` request threads.

    No ``--backpressure``: granian counts it in connections, not requests, and closes a
    kept-alive connection to take a new one past it. ``--log-level error``: granian warns at
    every start that 8 threads are many for 2 cores, which is the point here (see
    ``default_web_threads``); errors, a web process that exited among them, are still logged.
    A web process that exits is started again; on SIGTERM or SIGINT each finishes its requests
    for up to 10 s before it is killed.
    """
    return [
        sys.executable, "-m", "granian", "--interface", "wsgi", "leadbase.wsgi:application",
        "--host", options["host"], "--port", str(options["port"]),
        "--workers", str(options["workers"]), "--blocking-threads", str(options["threads"]),
        "--no-ws", "--access-log", "--log-level", "error", "--log-config", str(LOG_CONFIG),
        "--respawn-failed-workers", "--workers-kill-timeout", "10",
    ]


def server_url(host: str, port: int) -> str:
    """The address to open in a browser; an IPv6 address goes in brackets (``http://[::1]:8000``)."""
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def _wait_listening(
    host: str, port: int, server: subprocess.Popen, stopping: Callable[[], bool], timeout: float = 60.0
) -> None:
    """Return once something accepts connections on ``host``:``port`` (the web server, started
    in ``server``), or ``server`` has stopped, or ``stopping()``, or after ``timeout`` seconds."""
    target = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    deadline = time.monotonic() + timeout
    while server.poll() is None and not stopping() and time.monotonic() < deadline:
        try:
            with socket.create_connection((target, port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)


def _stop_all(procs: list[subprocess.Popen]) -> None:
    """SIGTERM the servers still running, and wait for them (SIGKILL after 15 s)."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    for p in procs:
        try:
            p.wait(timeout=15)
        except subprocess.TimeoutExpired:
            p.kill()


def _check_free(host: str, port: int) -> None:
    """Refuse a port something already listens on. The web processes bind with SO_REUSEPORT
    (see below), which lets a second server of the same user bind the same port without an
    error: a second `leadbase serve` would take half of the first one's connections."""
    if not 1 <= port <= 65535:  # getaddrinfo would take 99999 as another port, modulo 65536
        raise CommandError(f"--port must be between 1 and 65535, not {port}")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc}") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server: a closed port's TIME_WAIT is fine
        try:
            probe.bind(address)
        except OSError as exc:
            hint = " (is Leadbase already running?)" if exc.errno == errno.EADDRINUSE else ""
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}{hint}") from None


class Command(BaseCommand):
    help = (
        "Apply migrations, then run the web server (granian) and the background worker until "
        "interrupted. Prints the URL and, on a fresh install, how to log in."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
        parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
        parser.add_argument("--workers", type=int,
                            help="web worker processes (default $LEADBASE_WEB_WORKERS or one per core)")
        parser.add_argument("--threads", type=int,
                            help="threads per web process (default $LEADBASE_WEB_THREADS or 8)")
        parser.add_argument("--no-worker", action="store_true", help="do not start the background worker")

    def handle(self, *args, **options):
        if options["workers"] is None:
            options["workers"] = default_web_workers()
        if options["threads"] is None:
            options["threads"] = default_web_threads()
        for name, most in (("workers", settings.MAX_WEB_WORKERS), ("threads", settings.MAX_WEB_THREADS)):
            if not 1 <= options[name] <= most:
                raise CommandError(f"--{name} must be a number from 1 to {most}")
        _check_free(options["host"], options["port"])
        # Redis down, the writes are kept and their tasks wait in the outbox: say so, and serve.
        if problem := queue_problem():
            log.warning("%s: forms and the API take writes, and their tasks wait in the database "
                        "until the worker can queue them", problem)
        call_command("migrate", interactive=False, verbosity=0)
        login = ensure_first_login()
        url = server_url(options["host"], options["port"])
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "leadbase.settings"}
        note = ""
        if "LEADBASE_BASE_URL" not in os.environ and options["host"] not in ("0.0.0.0", "::"):
            # Unset, the public address is where this server listens (the embed snippet, the
            # links in confirmation emails), not port 8000's when --port says otherwise.
            env["LEADBASE_BASE_URL"] = url
        elif "LEADBASE_BASE_URL" not in os.environ:  # every address of the machine: which is public?
            note = (
                f"LEADBASE_BASE_URL is not set: links in emails and embed snippets point to {settings.BASE_URL}. "
                "Set it to the address people reach this server at."
            )
        # On SQLite this process copies the write-ahead log into the database itself, so that
        # the web and worker processes' commits, which hold the write lock, no longer do.
        checkpoints = connection.vendor == "sqlite" and not connection.is_in_memory_db()
        if checkpoints:
            env.update(sqlite_defaults())
        stopping = False
        failing = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        # Before the servers start: a stop while they start stops them too.
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        # Each web process listens on a socket of its own (granian binds one per process with
        # SO_REUSEPORT on Linux) and the kernel spreads new connections over them. On one shared
        # socket the process that woke first took a burst's connections, and kept-alive ones stay
        # where they landed: in 2 of 3 form benchmark runs one process held 95 % of the load and
        # served 210 posts/s while the other idled; spread, the same runs served 340-380 posts/s.
        procs = [subprocess.Popen(web_command(options), env=env)]
        # Said once the server answers (it takes seconds to start): a script that posted on
        # seeing the line met a refused connection.
        _wait_listening(options["host"], options["port"], procs[0], lambda: stopping)
        if stopping or procs[0].poll() is not None:
            _stop_all(procs)
            if not stopping:  # it could not start (its own error is above)
                sys.exit(1)
            return
        self.stdout.write(f"Leadbase is running on {url}")
        if login:
            self.stdout.write(f"Log in as {login[0]} with password {login[1]}")
            self.stdout.write(f"(the password is also in {settings.DATA_DIR / 'first-login.txt'}; change it after logging in)")
        if note:
            self.stdout.write(note)
        self.stdout.flush()
        worker_command = [sys.executable, "-m", "leadbase", "worker", "--verbosity", "0"]
        if not options["no_worker"]:
            procs.append(subprocess.Popen(worker_command, env=env))
        restarts: list[float] = []  # when the worker was started again
        waiting_since: float | None = None  # a worker that keeps stopping waits to be started
        while not stopping:
            # A worker that stops on its own is started again, while the web server goes on
            # taking posts (their tasks wait in the queue); one that keeps stopping is started
            # again once a minute. It stopped serve, web server included: a Redis down while
            # its worker restarted took the forms offline.
            worker = procs[1] if len(procs) > 1 else None
            if worker is not None and worker.poll() is not None and not stopping:
                now = time.monotonic()
                restarts = [at for at in restarts if now - at < WORKER_RESTART_WINDOW]
                code = worker.returncode  # said as the worker says its own lanes' stops
                how = f"killed by signal {-code}" if code < 0 else f"exit status {code}"
                if len(restarts) < WORKER_RESTARTS:
                    log.error("the background worker stopped (%s); starting it again", how)
                    restarts.append(now)
                    waiting_since = None
                    procs[1] = subprocess.Popen(worker_command, env=env)
                elif waiting_since is None:
                    waiting_since = now
                    log.error("the background worker stopped %s times within %.0f s (%s); the web server "
                              "goes on, and the worker is started again in %.0f s", len(restarts) + 1,
                              WORKER_RESTART_WINDOW, how, WORKER_RESTART_WINDOW - (now - restarts[0]))
            if procs[0].poll() is not None:
                break
            time.sleep(0.5)
            if checkpoints:
                try:
                    checkpoint(connection)
                    failing = False
                except Exception:  # the servers go on; their own commits checkpoint past the limit
                    if not failing:  # once, not twice a second
                        log.exception("could not checkpoint the database's write-ahead log")
                    failing = True
        _stop_all(procs)
        failed = [p for p in procs if p.returncode not in (0, -signal.SIGTERM, None)]
        if failed and not stopping:
            sys.exit(1)
