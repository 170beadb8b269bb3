"""A light SMTP server for benchmarks: it takes every message and notes when it arrived for
each recipient (and keeps the message only when asked, for its own tests).

The form benchmark runs the mail server on the same two cores as Leadbase, which a deployment
does not (its relay is another machine). aiosmtpd parses every command and message into Python
objects; that cost about 0.5 ms of CPU per email here, a fifth of the machine's work per form post
with double opt-in, spent on the benchmark's side. This server speaks the same SMTP (RFC 5321
commands, PIPELINING per RFC 2920, dot-stuffed DATA) over a real TCP socket, with an asyncio
protocol that looks at the bytes only as far as the commands need: a few microseconds per email.
It is what DESIGN.md calls a fast local SMTP sink.

    sink = SmtpSink()            # a free port of 127.0.0.1
    sink.start()                 # serves from a thread of its own
    ... sink.port, sink.arrived[address], sink.count ...
    sink.stop()
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections import defaultdict

MAX_LINE = 2048  # a command line longer than this is refused (RFC 5321 allows 512)
MAX_MESSAGE = 10 * 1024 * 1024  # SIZE offered in EHLO


class _Session(asyncio.Protocol):
    """One client connection: commands answered in order, replies to pipelined commands sent
    together, DATA read up to the line holding only a dot."""

    def __init__(self, sink: SmtpSink) -> None:
        self.sink = sink
        self.buffer = bytearray()
        self.scanned = 0  # in DATA: bytes of the buffer searched for the end of the message
        self.in_data = False
        self.sender: bytes | None = None
        self.recipients: list[str] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(b"220 127.0.0.1 ESMTP benchmark sink\r\n")  # type: ignore[attr-defined]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        replies: list[bytes] = []
        closing = False
        while not closing:
            if self.in_data:
                # The message ends at CRLF . CRLF. The buffer starts with the DATA line's own
                # CRLF (put back when DATA was taken), so an empty message ends too; each read
                # searches only what it added, and what could finish a terminator begun before.
                end = self.buffer.find(b"\r\n.\r\n", max(0, self.scanned - 4))
                if end < 0:
                    self.scanned = len(self.buffer)
                    if len(self.buffer) > MAX_MESSAGE:
                        replies.append(b"552 5.3.4 Message too big\r\n")
                        closing = True
                    break
                if self.sink.keep:
                    content = bytes(self.buffer[2:end]).replace(b"\r\n..", b"\r\n.")
                    self.sink.messages.append((self.recipients, content[1:] if content[:2] == b".." else content))
                del self.buffer[: end + 5]
                self.in_data = False
                now = time.monotonic()
                for rcpt in self.recipients:
                    self.sink.arrived[rcpt].append(now)
                self.sink.count += len(self.recipients)
                self.sender, self.recipients = None, []
                replies.append(b"250 2.0.0 OK\r\n")
                continue
            line_end = self.buffer.find(b"\r\n")
            if line_end < 0:
                if len(self.buffer) > MAX_LINE:
                    replies.append(b"500 5.5.2 Line too long\r\n")
                    closing = True
                break
            line = bytes(self.buffer[:line_end])
            del self.buffer[: line_end + 2]
            reply, closing = self._command(line)
            if self.in_data:
                self.buffer[:0] = b"\r\n"  # the DATA line's CRLF: the first of the terminator's
                self.scanned = 0
            replies.append(reply)
        if replies and self.transport is not None:
            self.transport.write(b"".join(replies))
        if closing and self.transport is not None:
            self.transport.close()

    def _command(self, line: bytes) -> tuple[bytes, bool]:
        verb = line[:4].upper()
        if verb == b"EHLO":
            return (
                b"250-127.0.0.1\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n"
                + b"250 SIZE %d\r\n" % MAX_MESSAGE
            ), False
        if verb == b"HELO":
            return b"250 127.0.0.1\r\n", False
        if verb == b"MAIL":
            if not line[4:10].upper() == b" FROM:":
                return b"501 5.5.4 Syntax: MAIL FROM:<address>\r\n", False
            self.sender, self.recipients = line[10:], []
            return b"250 2.1.0 OK\r\n", False
        if verb == b"RCPT":
            if self.sender is None:
                return b"503 5.5.1 MAIL first\r\n", False
            start, end = line.find(b"<"), line.find(b">")
            if not line[4:8].upper() == b" TO:" or start < 0 or end < start:
                return b"501 5.5.4 Syntax: RCPT TO:<address>\r\n", False
            self.recipients.append(line[start + 1 : end].decode("utf-8", "replace"))
            return b"250 2.1.5 OK\r\n", False
        if verb == b"DATA":
            if not self.recipients:
                return b"503 5.5.1 RCPT first\r\n", False
            self.in_data = True
            return b"354 End data with <CR><LF>.<CR><LF>\r\n", False
        if verb == b"RSET":
            self.sender, self.recipients = None, []
            return b"250 2.0.0 OK\r\n", False
        if verb == b"NOOP":
            return b"250 2.0.0 OK\r\n", False
        if verb == b"QUIT":
            return b"221 2.0.0 Bye\r\n", True
        return b"502 5.5.2 Command not implemented\r\n", False


class SmtpSink:
    """The server; ``arrived`` maps each recipient to the times (``time.monotonic()``) its
    messages were taken, ``count`` the messages taken per recipient in all. With ``keep``, also
    each message's recipients and content (dots unstuffed, without the final CRLF) in
    ``messages``, for tests of the server itself."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, keep: bool = False) -> None:
        self.host = host
        self.keep = keep
        self.messages: list[tuple[list[str], bytes]] = []
        self.arrived: dict[str, list[float]] = defaultdict(list)
        self.count = 0
        self._socket = socket.create_server((host, port))
        self.port: int = self._socket.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name="smtp-sink", daemon=True)
        self._ready = threading.Event()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            self._loop.create_server(lambda: _Session(self), sock=self._socket)
        )
        self._ready.set()
        try:
            self._loop.run_forever()
        finally:
            server.close()  # clients still connected are left to the process's end
            self._loop.close()

    def start(self) -> SmtpSink:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the SMTP sink did not start within 10 s")
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)
