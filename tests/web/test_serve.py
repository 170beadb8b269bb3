"""`leadbase serve`: its number of web processes and threads, and its checkpoints on SQLite."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from leadbase.settings import web_workers_default
from leadbase.web.management.commands.serve import (
    SERVE_AUTOCHECKPOINT,
    SERVE_MMAP_MB,
    server_url,
)


@pytest.mark.parametrize(("set_to", "said"), [({}, None), ({"LEADBASE_WEB_WORKERS": "3", "LEADBASE_WEB_THREADS": "16"}, "3 16")])
def test_one_web_process_per_core_of_eight_threads_by_default_and_the_settings_win(tmp_path, set_to, said):
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "REDIS_URL", "LEADBASE_WEB_WORKERS", "LEADBASE_WEB_THREADS")}
    env.update(LEADBASE_DATA_DIR=str(tmp_path), **set_to)
    read = "from leadbase.web.management.commands.serve import default_web_threads as t, default_web_workers as w; print(w(), t())"
    done = subprocess.run([sys.executable, "-m", "leadbase", "shell", "--no-imports", "-c", read], env=env,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (said or f"{web_workers_default(os.cpu_count())} 8")


def test_one_web_process_per_core_at_least_two_and_at_most_the_limit():
    assert [web_workers_default(cores) for cores in (None, 1, 2, 3, 16)] == [2, 2, 2, 3, 16]
    assert web_workers_default(10_000) == 512  # more would be refused


def test_a_bad_web_setting_stops_serve_with_one_line(tmp_path):
    # It was a CommandError of serve's alone; now every command refuses it, as other settings.
    env = {**os.environ, "LEADBASE_DATA_DIR": str(tmp_path), "LEADBASE_WEB_WORKERS": "0"}
    served = subprocess.run([sys.executable, "-m", "leadbase", "serve"], env=env, capture_output=True, text=True)
    assert served.returncode == 1 and "Traceback" not in served.stderr
    assert served.stderr == "leadbase: LEADBASE_WEB_WORKERS must be at least 1, not 0\n"


@pytest.mark.parametrize(("option", "value"), [("--workers", "0"), ("--threads", "0"), ("--workers", "99999999999999999999"),
                                               ("--threads", "1025")])
def test_serve_refuses_fewer_than_one_process_or_thread_or_a_number_granian_fails_on(option, value):
    # 99999999999999999999 processes was a 27-line granian traceback; so many threads a crash loop
    with pytest.raises(CommandError, match=f"{option} must be a number from 1 to"):
        call_command("serve", option, value)


def test_a_redis_that_does_not_answer_stops_a_batch_worker_before_it_starts(settings):
    # A lasting worker waits for Redis instead (tests/test_worker.py): serve goes on meanwhile.
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.REDIS_URL = f"redis://127.0.0.1:{port}/7"
    with pytest.raises(CommandError, match=rf"Redis at REDIS_URL \(redis://127.0.0.1:{port}/7\) does not answer"):
        call_command("worker", queue="default", batch=True)


def _serve(data: Path, *options: str, stderr: int = subprocess.PIPE) -> tuple[subprocess.Popen, int]:
    """`leadbase serve ...options` on SQLite in ``data``, on a free port: (the process, the port)."""
    env = {**os.environ, "LEADBASE_DATA_DIR": str(data), "LEADBASE_LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "REDIS_URL", "LEADBASE_SQLITE_AUTOCHECKPOINT", "LEADBASE_SQLITE_MMAP_MB",
                 "LEADBASE_BASE_URL"):
        env.pop(name, None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "leadbase", "serve", "--port", str(port), *options],
        env=env, stdout=subprocess.DEVNULL, stderr=stderr, start_new_session=True,
    )
    return server, port


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`leadbase serve` on SQLite with 2 web processes of 1 thread and no worker: (port, data dir,
    the pids of its web processes)."""
    data = tmp_path_factory.mktemp("serve") / "data"
    server, port = _serve(data, "--workers", "2", "--threads", "1", "--no-worker", stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "leadbase serve did not answer within 60 s"
                time.sleep(0.2)
        web: list[int] = []
        while len(web) < 2:  # granian's main process is the child of serve; its web processes, its children
            assert time.monotonic() < deadline, "granian did not start its 2 web processes within 60 s"
            main = _children(server.pid, "granian")
            web = _children(main[0], "granian") if main else []
            time.sleep(0.2)
        yield port, data, web
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _children(pid: int, name: str) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes()
        except OSError:  # it ended meanwhile
            continue
        if int(fields[1]) == pid and name.encode() in cmdline:
            found.append(int(stat.parent.name))
    return found


def test_serve_serves_the_static_files_itself_with_a_cache_header(served):
    """No collectstatic step and no other server: whitenoise answers /static/ from the app."""
    port = served[0]
    login = urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=10).read().decode()
    css = next(part.split('"')[0] for part in login.split('href="')[1:] if part.split('"')[0].endswith(".css"))
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{css}", timeout=10) as response:
        body = response.read()
        assert response.headers["Content-Type"].startswith("text/css")
        assert "max-age" in response.headers.get("Cache-Control", "")
    assert css.startswith("/static/") and b"{" in body


FORM = """
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.capture.actions import do_create_form
do_create_user("rate@example.com", "rate-password-1", workspace_slug="rate")
do_create_form(Workspace.objects.get(slug="rate"), {"name": "Rate", "slug": "rate", "fields": [{"key": "name"}, {"key": "email"}]}, actor=None)
"""


def test_the_per_ip_rate_limit_holds_across_the_web_processes(served):
    """Each post on a new connection: the kernel spreads them over both web processes, which
    count in the one database, so the limit is the limit of the whole server."""
    port, data, _ = served
    env = {**os.environ, "LEADBASE_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "leadbase", "shell", "-c", FORM], env=env, check=True, timeout=120)
    statuses = []
    for i in range(30):
        body = f'{{"name": "Rate Tester", "email": "rate{i}@example.org"}}'.encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/f/rate", body, {"Content-Type": "application/json", "Accept": "application/json"}
        )
        try:
            statuses.append(urllib.request.urlopen(request, timeout=10).status)
        except urllib.error.HTTPError as refused:
            statuses.append(refused.code)
            assert refused.code != 429 or int(refused.headers["Retry-After"]) > 0

    assert statuses == [200] * 20 + [429] * 10  # LEADBASE_FORM_RATE_PER_IP's default
    with sqlite3.connect(data / "leadbase.sqlite3") as database:
        assert database.execute("SELECT COUNT(*) FROM leads_lead").fetchone() == (20,)


BASE_FORM = """
from leadbase.accounts.actions import do_create_user
from leadbase.accounts.models import Workspace
from leadbase.capture.actions import do_create_form
do_create_user("base@example.com", "base-password-1", workspace_slug="base")
do_create_form(Workspace.objects.get(slug="base"), {"name": "Base", "slug": "base", "fields": [{"key": "name"}, {"key": "email"}]}, actor=None)
"""


def test_without_a_base_url_setting_the_public_address_is_where_serve_listens(served):
    """The addresses Leadbase hands out (the embed's own origin, the snippets, confirmation
    links) were port 8000's whatever --port said, unless LEADBASE_BASE_URL was set."""
    port, data, _ = served
    env = {**os.environ, "LEADBASE_DATA_DIR": str(data)}
    env.pop("DATABASE_URL", None)
    subprocess.run([sys.executable, "-m", "leadbase", "shell", "-c", BASE_FORM], env=env, check=True, timeout=120)
    script = urllib.request.urlopen(f"http://127.0.0.1:{port}/f/base/embed.js", timeout=10).read().decode()

    assert f'"http://127.0.0.1:{port}"' in script and "127.0.0.1:8000" not in script


def test_serve_checkpoints_the_sqlite_log_itself_and_its_processes_only_as_a_backstop(served):
    """On SQLite, `leadbase serve` copies the write-ahead log into the database file from its own
    process, so the commits of its web and worker processes (which hold the write lock) don't."""
    _, data, web = served
    for pid in web:  # the web processes start with the backstop threshold
        environ = (Path("/proc") / str(pid) / "environ").read_bytes().split(b"\0")
        assert f"LEADBASE_SQLITE_AUTOCHECKPOINT={SERVE_AUTOCHECKPOINT}".encode() in environ
        # and read the database file through a memory map
        assert f"LEADBASE_SQLITE_MMAP_MB={SERVE_MMAP_MB}".encode() in environ
    # A write that never checkpoints itself reaches the database file all the same.
    path = data / "leadbase.sqlite3"
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_autocheckpoint=0")
        size = path.stat().st_size
        db.execute("CREATE TABLE scratch (blob BLOB)")
        db.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 10_000,) for _ in range(200)])
        db.commit()
        # In the log (which a PASSIVE checkpoint never shrinks). Not "the file is unchanged":
        # serve may copy the log's earlier pages, the server's own writes, at any moment.
        assert path.with_name(path.name + "-wal").stat().st_size >= 2_000_000
        deadline = time.monotonic() + 10
        while path.stat().st_size < size + 2_000_000:
            assert time.monotonic() < deadline, "serve did not checkpoint the log within 10 s"
            time.sleep(0.1)
    finally:
        db.close()


def _sockets(pid: int) -> set[int]:
    inodes = set()
    for fd in (Path("/proc") / str(pid) / "fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def _tcp(port: int) -> dict[int, str]:
    """The inodes of IPv4 TCP sockets on 127.0.0.1:``port`` (local side), with their state
    (0A: listening, 01: established)."""
    found = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port:
            found[int(fields[9])] = fields[3]
    return found


def test_each_web_process_listens_on_its_own_socket_so_kept_alive_connections_spread(served):
    """With one socket shared by all web processes, the first to wake took the kept-alive
    connections of a burst, often all of them: one process served a load test while the other
    idled. Each has its own socket on the port (SO_REUSEPORT) and the kernel spreads the
    connections."""
    port, _, web = served
    listening = [{inode for inode in _sockets(pid) if _tcp(port).get(inode) == "0A"} for pid in web]
    assert all(len(inodes) == 1 for inodes in listening), listening
    assert listening[0] != listening[1]
    clients = []
    try:
        for _ in range(24):
            client = socket.create_connection(("127.0.0.1", port))
            client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            assert client.recv(4096).startswith(b"HTTP/1.1 200")  # answered; the connection stays open
            clients.append(client)
        established = {inode for inode, state in _tcp(port).items() if state == "01"}
        held = [len(_sockets(pid) & established) for pid in web]
        assert sum(held) == 24 and min(held) > 0, held  # all 24 in one process: 2 chances in 2**24
    finally:
        for client in clients:
            client.close()


def test_serve_refuses_a_port_something_already_listens_on():
    # The web processes' SO_REUSEPORT would let a second server bind it silently and take half
    # of the first one's connections.
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a running `leadbase serve`
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(CommandError, match=f"cannot listen on 127.0.0.1:{port}: .*already running"):
            call_command("serve", "--port", str(port))


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:8000"), ("localhost", "http://localhost:8000"), ("::1", "http://[::1]:8000"),
     ("::", "http://[::]:8000")],
)
def test_the_printed_url_can_be_opened(host, url):
    assert server_url(host, 8000) == url


@pytest.mark.parametrize("port", ["0", "-1", "65536", "99999"])
def test_serve_refuses_a_port_out_of_range(port):
    with pytest.raises(CommandError, match=f"--port must be between 1 and 65535, not {port}"):
        call_command("serve", "--port", port)


def test_serve_names_the_address_it_cannot_listen_on():
    with pytest.raises(CommandError, match="cannot listen on no-such-host.invalid:8000: ") as refused:
        call_command("serve", "--host", "no-such-host.invalid")
    assert "already running" not in str(refused.value)


def test_serve_starts_a_worker_that_stopped_again_and_the_web_goes_on(tmp_path):
    server, port = _serve(tmp_path / "data", "--workers", "1", "--threads", "1")
    try:
        deadline = time.monotonic() + 60
        workers: list[int] = []
        while not workers:  # serve's children: the web server and the worker
            assert time.monotonic() < deadline, "serve did not start its worker within 60 s"
            workers = _children(server.pid, "leadbase\0worker\0")
            time.sleep(0.2)
        os.kill(workers[0], signal.SIGKILL)
        again: list[int] = []
        while not again:
            assert time.monotonic() < deadline, "serve did not start the worker again"
            assert server.poll() is None, "serve stopped with its worker"
            again = [pid for pid in _children(server.pid, "leadbase\0worker\0") if pid != workers[0]]
            time.sleep(0.2)
        while True:
            try:
                assert urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
                break
            except OSError:
                assert time.monotonic() < deadline, "the web server stopped answering"
                time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert "the background worker stopped (killed by signal 9); starting it again" in errors.decode()
    assert server.returncode == 0


def test_a_stop_while_the_web_server_starts_stops_it_too(tmp_path):
    # serve now waits for the server to answer before it says it runs: a SIGTERM in that wait
    # must not leave the web server running without it.
    server, port = _serve(tmp_path / "data", "--workers", "1", "--threads", "1")
    deadline = time.monotonic() + 60
    while not _children(server.pid, "granian"):
        assert time.monotonic() < deadline, "serve did not start its web server"
        time.sleep(0.05)
    web = _children(server.pid, "granian")
    server.send_signal(signal.SIGTERM)  # serve alone, not its process group
    server.communicate(timeout=60)

    assert server.returncode == 0

    def running(pid: int) -> bool:
        try:
            return b"granian" in Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False

    while any(running(pid) for pid in web):
        assert time.monotonic() < deadline, "the web server outlived serve"
        time.sleep(0.1)


def test_a_web_process_that_stops_is_started_again(tmp_path):
    server, port = _serve(tmp_path / "data", "--workers", "1", "--threads", "1", "--no-worker")

    def web_processes() -> list[int]:
        main = _children(server.pid, "granian")
        return _children(main[0], "granian") if main else []

    def answers() -> bool:
        try:
            return urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2).status == 200
        except OSError:
            return False

    try:
        deadline = time.monotonic() + 60
        while not (answers() and web_processes()):
            assert time.monotonic() < deadline, "leadbase serve did not answer within 60 s"
            time.sleep(0.2)
        first = web_processes()
        os.kill(first[0], signal.SIGKILL)
        while True:
            assert time.monotonic() < deadline, "the web process was not started again"
            assert server.poll() is None, "serve stopped with its web process"
            again = web_processes()
            if again and again != first and answers():
                break
            time.sleep(0.2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        _, errors = server.communicate(timeout=30)
    assert "Unexpected exit from worker-1" in errors.decode()  # granian logs it as an error
    assert server.returncode == 0


def test_on_every_address_without_a_base_url_serve_says_which_address_links_use(tmp_path):
    # --host 0.0.0.0 cannot tell the public address: links went to port 8000's without a word.
    env = {**os.environ, "LEADBASE_DATA_DIR": str(tmp_path), "LEADBASE_LOG_LEVEL": "WARNING"}
    for name in ("DATABASE_URL", "REDIS_URL", "LEADBASE_BASE_URL"):
        env.pop(name, None)
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "leadbase", "serve", "--host", "0.0.0.0", "--port", str(port), "--no-worker"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True, text=True,
    )
    try:
        lines = [server.stdout.readline() for _ in range(4)]  # (the first login comes between)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
    assert lines[0].startswith(f"Leadbase is running on http://0.0.0.0:{port}")
    assert any(line.startswith(
        "LEADBASE_BASE_URL is not set: links in emails and embed snippets point to http://127.0.0.1:8000."
    ) for line in lines[1:]), lines


def test_serve_s_sqlite_settings_yield_to_the_operator_s_own(monkeypatch, tmp_path):
    from leadbase.web.management.commands.serve import sqlite_defaults

    for name in ("LEADBASE_SQLITE_AUTOCHECKPOINT", "LEADBASE_SQLITE_MMAP_MB"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name + "_FILE", raising=False)
    assert sqlite_defaults() == {"LEADBASE_SQLITE_AUTOCHECKPOINT": str(SERVE_AUTOCHECKPOINT),
                                 "LEADBASE_SQLITE_MMAP_MB": str(SERVE_MMAP_MB)}
    monkeypatch.setenv("LEADBASE_SQLITE_MMAP_MB", "")  # set empty: not set, as for every setting
    (tmp_path / "pages").write_text("1000\n")
    monkeypatch.setenv("LEADBASE_SQLITE_AUTOCHECKPOINT_FILE", str(tmp_path / "pages"))
    assert sqlite_defaults() == {"LEADBASE_SQLITE_MMAP_MB": str(SERVE_MMAP_MB)}
    monkeypatch.setenv("LEADBASE_SQLITE_MMAP_MB", "64")
    assert sqlite_defaults() == {}
