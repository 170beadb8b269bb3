"""benchmarks/smtp_sink.py: the form benchmark's mail server must take mail as a real SMTP
server does, pipelined or not, or its figures would count emails that never arrived."""

from __future__ import annotations

import smtplib
import socket

import pytest

from benchmarks.smtp_sink import SmtpSink
from leadbase import mail


@pytest.fixture
def sink():
    server = SmtpSink(keep=True).start()
    yield server
    server.stop()


def test_a_message_to_two_recipients_arrives_whole_with_its_dots_unstuffed(sink):
    body = "Subject: Hi\r\n\r\nFirst line\r\n.a line that starts with a dot\r\n..two\r\nlast\r\n"
    with smtplib.SMTP("127.0.0.1", sink.port) as smtp:
        assert smtp.ehlo()[0] == 250
        assert smtp.has_extn("pipelining")
        assert smtp.sendmail("from@example.org", ["a@example.org", "b@example.org"], body) == {}
    assert sink.count == 2
    assert sorted(sink.arrived) == ["a@example.org", "b@example.org"]
    assert sink.messages == [(["a@example.org", "b@example.org"], body.encode().removesuffix(b"\r\n"))]


def test_leadbase_pipelined_sends_arrive_each_once_in_order(sink, settings):
    """``mail.send_all`` writes each body with the next message's commands (RFC 2920)."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    prepared = [
        mail.prepare(subject="Hi", to_name=f"P {n}", to_address=f"p{n}@example.org", text=f"Hello {n}\n.", html="h")
        for n in range(50)
    ]
    with mail.shared_connection():
        assert mail.send_all(prepared) == [1] * 50
    assert sink.count == 50
    assert [(rcpts, content + b"\r\n") for rcpts, content in sink.messages] == [
        ([p.recipient], p.data) for p in prepared
    ]


def test_commands_out_of_order_or_unknown_are_refused_and_change_nothing(sink):
    with socket.create_connection(("127.0.0.1", sink.port)) as conn:
        reader = conn.makefile("rb")
        assert reader.readline().startswith(b"220 ")
        conn.sendall(b"RCPT TO:<a@example.org>\r\nDATA\r\nMAIL FROM <x>\r\nVRFY a\r\nMAIL FROM:<x@example.org>\r\n"
                     b"RCPT TO:no-brackets\r\nDATA\r\nQUIT\r\n")
        codes = [reader.readline()[:3] for _ in range(8)]
    assert codes == [b"503", b"503", b"501", b"502", b"250", b"501", b"503", b"221"]
    assert sink.count == 0 and sink.messages == []


class _Transport:
    def __init__(self) -> None:
        self.written = bytearray()
        self.closed = False

    def write(self, data: bytes) -> None:
        self.written += data

    def close(self) -> None:
        self.closed = True


def test_pipelined_commands_and_messages_split_anywhere_read_the_same():
    """Whatever the reads the TCP stream is cut into (here: one byte each, and one read for all),
    each message ends where it ends: a lone '.' line inside a dot-stuffed body does not end it,
    an empty message and a message ending right at a read's end do."""
    from benchmarks.smtp_sink import _Session

    stream = (
        b"EHLO me\r\nMAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n"
        b"Subject: one\r\n\r\n..\r\n...two\r\nend\r\n.\r\n"
        b"MAIL FROM:<a@example.org>\r\nRCPT TO:<c@example.org>\r\nDATA\r\n.\r\n"  # empty
        b"MAIL FROM:<a@example.org>\r\nRCPT TO:<d@example.org>\r\nDATA\r\nlast\r\n.\r\nQUIT\r\n"
    )
    seen = []
    for reads in ([stream[i : i + 1] for i in range(len(stream))], [stream]):
        sink = SmtpSink(keep=True)
        sink._socket.close()  # the session alone, no server
        session, transport = _Session(sink), _Transport()
        session.connection_made(transport)
        for data in reads:
            session.data_received(data)
        seen.append((sink.messages, bytes(transport.written), transport.closed))
    assert seen[0] == seen[1]
    messages, written, closed = seen[0]
    assert messages == [
        (["b@example.org"], b"Subject: one\r\n\r\n.\r\n..two\r\nend"),
        (["c@example.org"], b""),
        (["d@example.org"], b"last"),
    ]
    assert written.count(b"\r\n250 2.0.0 OK") == 3 and written.endswith(b"221 2.0.0 Bye\r\n") and closed
