"""A real HTTP receiver of webhook deliveries on 127.0.0.1, for the tests that deliver them.

``running_receiver()`` starts a ``ThreadingHTTPServer`` on a free port that records every
request (path, headers, raw body) and answers with the statuses a test queues (200 when none
is queued). ``IMMEDIATE_TASKS`` runs tasks at once, so a delivery happens within the request.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.client import HTTPMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Set it through the settings fixture, so the task backends are rebuilt: a backend built while
#: the apps loaded would otherwise keep the production queue for the test.
IMMEDIATE_TASKS = {
    "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "imports"]}
}


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


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.receiver = Receiver(f"http://127.0.0.1:{server.server_port}/hooks/leadbase")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
