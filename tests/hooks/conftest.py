"""Webhook test helpers: a real HTTP receiver on 127.0.0.1, endpoints, and a task queue to step.

Tasks run at once (the immediate backend), as in the rest of the suite.
``receiver`` is a ``ThreadingHTTPServer`` on a free port that records every request (path,
headers, raw body) and answers with the statuses a test queues (200 when none is queued).
``queue`` swaps the immediate task backend for the dummy one, which keeps what is enqueued
(with its ``run_after``) so a test can run the "worker" one step at a time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leadbase.hooks.actions import do_create_endpoint
from leadbase.hooks.models import Endpoint


@dataclass
class Received:
    path: str
    headers: HTTPMessage
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    location: str = ""
    delay: float = 0.0
    #: Called inside the request, before answering: "while the delivery is in flight".
    during: Callable[[], None] | None = None

    def respond(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        receiver.requests.append(Received(self.path, self.headers, body))
        if receiver.during is not None:
            receiver.during()
        time.sleep(receiver.delay)
        status = receiver.statuses.pop(0) if receiver.statuses else 200
        answer = f"status {status}".encode()
        try:
            self.send_response(status)
            if receiver.location:
                self.send_header("Location", receiver.location)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)
        except (BrokenPipeError, ConnectionResetError):
            pass  # a delivery that timed out (receiver.delay) hung up before the answer

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Server(ThreadingHTTPServer):
    receiver: Receiver


@pytest.fixture(autouse=True)
def _immediate_tasks(settings) -> None:
    # Set through the settings fixture so the task backends are rebuilt: a backend built while
    # the apps loaded would otherwise keep the production queue for this test.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "imports"]}}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks/leadbase")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.receiver
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def endpoint(personas, receiver) -> Endpoint:
    """An endpoint of acme pointing at the receiver, subscribed to every event."""
    return do_create_endpoint(personas.workspace, receiver.url, [], actor=personas.owner)


@pytest.fixture
def queue(settings, django_capture_on_commit_callbacks):
    """The dummy task backend: tasks are kept, not run. ``queue.run()`` runs what is queued
    (ignoring ``run_after``, like a worker whose clock has moved on) until nothing is left."""
    from django_tasks import task_backends

    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": ["default", "imports"]}}
    return Queue(task_backends["default"], django_capture_on_commit_callbacks)


class Queue:
    def __init__(self, backend, commits) -> None:  # type: ignore[no-untyped-def]
        self.backend = backend
        self.commits = commits

    @property
    def results(self) -> list:
        return self.backend.results

    def run(self, limit: int = 50) -> int:
        """Run queued tasks in order, including the ones they queue; the number run."""
        done = 0
        while self.backend.results and done < limit:
            result = self.backend.results.pop(0)
            # Each task commits as it would in a worker, so what it queues on commit is queued.
            with self.commits(execute=True):
                result.task.call(*result.args, **result.kwargs)
            done += 1
        return done
