"""Sending email from background tasks, over one SMTP connection per batch of tasks.

Django's ``EmailMessage.send()`` opens a connection, greets the server, sends and quits: four
round trips and a TCP handshake for every message. The worker (``leadbase.worker``) runs its
tasks inside ``shared_connection()``, so the messages sent by a batch of tasks (a burst of
double opt-in confirmations) share one connection, opened on first use. Outside it (a task run
on its own, tests), ``send`` is ``message.send()``.

Messages sent in bulk (a confirmation per form post) are ``prepare``d: besides Django's message
they are laid out as bytes directly, a plain text and an HTML part in UTF-8 as Django would send
them. Django's classes take about 0.6 ms per message (parsing and re-folding every address and
header through the stdlib's email package); the direct layout about 20 µs, and it is what goes
over a shared SMTP connection. Anything it does not handle the way Django would (a
non-ASCII address, a header or body line too long to send as it is) is sent as Django's message.
"""

from __future__ import annotations

import os
import re
import secrets
import smtplib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache, partial
from typing import Any

from django.conf import settings
from django.core.mail import BadHeaderError, EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.core.mail.message import sanitize_address
from django.core.mail.utils import DNS_NAME

_local = threading.local()


@contextmanager
def shared_connection() -> Iterator[None]:
    """Within this block, ``send`` reuses one connection; it is closed at the end."""
    if getattr(_local, "connection", None) is not None:  # nested: the outer block owns it
        yield
        return
    _local.connection, _local.unreachable = get_connection(), None
    try:
        yield
    finally:
        connection, _local.connection, _local.unreachable = _local.connection, None, None
        with suppress(Exception):  # a server gone at the end changes nothing already sent
            connection.close()


@dataclass(frozen=True)
class Prepared:
    """A message ready for an SMTP connection (``data``, or None when only Django's classes can
    lay it out) and the same message as Django's ``EmailMessage`` (``build``), for the other
    backends (the console, the test outbox) and for sending outside a shared connection."""

    sender: str  # envelope addresses
    recipient: str
    data: bytes | None
    build: Callable[[], EmailMessage]


def send(message: EmailMessage | Prepared) -> int:
    """Send ``message``, over the shared connection when there is one. A connection the server
    dropped meanwhile (idle timeout, restart) is reopened once."""
    connection = getattr(_local, "connection", None)
    if isinstance(message, Prepared):
        if message.data is None or not isinstance(connection, SMTPBackend):
            return send(message.build())
        return _over(connection, partial(_sendmail, connection, message))
    if connection is None:
        return message.send()
    message.connection = connection
    return _over(connection, message.send)


def _over(connection: Any, deliver: Callable[[], int]) -> int:
    unreachable = getattr(_local, "unreachable", None)
    if unreachable is not None:  # the server could not be reached in this block: fail at once
        raise unreachable.with_traceback(None)
    try:
        _open(connection)  # a no-op while open; kept open by the block, not per message
        return deliver()
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        connection.close()
        _open(connection)
        return deliver()


def _open(connection: Any) -> None:
    """Open ``connection``; when the shared one cannot be opened (the server down, a wrong
    EMAIL_URL, refused credentials), the block's other messages fail at once rather than each
    waiting up to EMAIL_TIMEOUT for it, twice: their tasks are tried again later."""
    try:
        connection.open()
    except Exception as exc:
        if connection is getattr(_local, "connection", None):
            _local.unreachable = exc
        raise


def is_temporary(exc: BaseException) -> bool:
    """True when sending failed for a reason that may pass, so the message should be sent again
    later: the server down, slow or gone, a 4xx reply (RFC 5321 "transient"), or a refusal that
    an operator corrects (credentials, TLS, the sender address). False for a 5xx refusal of the
    recipient or of the message itself, and for anything that is not a sending error."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(400 <= code < 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPDataError):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, OSError)  # smtplib's errors, refused or timed out connections, TLS, DNS


def describe_failure(exc: BaseException) -> str:
    """One line for the log saying why a message could not be sent, and where it was sent."""
    where = f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
    if settings.EMAIL_BACKEND != "django.core.mail.backends.smtp.EmailBackend":
        where = settings.EMAIL_BACKEND
    return f"{type(exc).__name__}: {exc} (EMAIL_URL: {where})"


def _sendmail(connection: SMTPBackend, message: Prepared) -> int:
    """``smtplib.SMTP.sendmail`` to the one recipient of ``message``; a refused recipient raises
    SMTPRecipientsRefused. For plain addresses the commands are written directly: ``sendmail``
    parses both addresses again with the email package (``quoteaddr``) for every message: about
    40 % of its own time, 6 % of the worker's instructions per confirmation email. When the
    server offers PIPELINING (RFC 2920, as Postfix, Exim and the relays of mail services do),
    MAIL, RCPT and DATA go in one write (``_pipelined``)."""
    smtp, data = connection.connection, message.data
    assert data is not None
    if not (_PLAIN_ADDRESS.match(message.sender) and _PLAIN_ADDRESS.match(message.recipient)):
        smtp.sendmail(message.sender, [message.recipient], data)
        return 1
    smtp.ehlo_or_helo_if_needed()
    size = f" size={len(data)}" if smtp.does_esmtp and smtp.has_extn("size") else ""
    if smtp.does_esmtp and smtp.has_extn("pipelining"):
        return _pipelined(smtp, message, size)
    smtp.putcmd("mail", f"from:<{message.sender}>{size}")
    code, reply = smtp.getreply()
    if code != 250:
        _after_refusal(smtp, code)
        raise smtplib.SMTPSenderRefused(code, reply, message.sender)
    smtp.putcmd("rcpt", f"TO:<{message.recipient}>")
    code, reply = smtp.getreply()
    if code not in (250, 251):
        _after_refusal(smtp, code)
        raise smtplib.SMTPRecipientsRefused({message.recipient: (code, reply)})
    code, reply = smtp.data(data)
    if code != 250:
        _after_refusal(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    return 1


def _pipelined(smtp: smtplib.SMTP, message: Prepared, size: str) -> int:
    """Send ``message`` in two round trips instead of four: MAIL, RCPT and DATA in one write and
    their three replies read together, then the message and its final reply. To a relay 20 ms
    away that is 40 ms a message instead of 80 over a connection. On one machine, alone, it
    took a fifth off the worker's and the server's CPU per message (less when the machine is
    busy and replies are often waiting already). A refused step raises what
    ``_sendmail`` raises for it, and the connection is left ready for the next message."""
    smtp.send(_envelope(message, size))
    replies = _envelope_replies(smtp)
    refusal = _refusal(message, replies)
    if refusal is not None:
        _end_refused(smtp, replies)
        raise refusal
    smtp.send(_body(message))
    code, reply = smtp.getreply()
    if code != 250:
        _after_refusal(smtp, code)
        raise smtplib.SMTPDataError(code, reply)
    return 1


def _envelope(message: Prepared, size: str) -> str:
    return f"mail from:<{message.sender}>{size}\r\nrcpt TO:<{message.recipient}>\r\ndata\r\n"


def _envelope_replies(smtp: smtplib.SMTP) -> list[tuple[int, bytes]]:
    """The replies to MAIL, RCPT and DATA; fewer when the server said it is closing (421)."""
    replies = []
    for _ in range(3):
        replies.append(smtp.getreply())
        if replies[-1][0] == 421:  # the server is closing: no more replies will come
            break
    return replies


def _refusal(message: Prepared, replies: list[tuple[int, bytes]]) -> smtplib.SMTPException | None:
    """What ``sendmail`` raises for the first step refused, or None when DATA may follow."""
    codes = [code for code, _ in replies]  # a step passed has its next step's reply after it
    if codes[0] != 250:
        return smtplib.SMTPSenderRefused(*replies[0], message.sender)
    if codes[1] not in (250, 251):
        return smtplib.SMTPRecipientsRefused({message.recipient: replies[1]})
    if codes[2] != 354:
        return smtplib.SMTPDataError(*replies[2])
    return None


def _end_refused(smtp: smtplib.SMTP, replies: list[tuple[int, bytes]]) -> None:
    """Leave the connection ready for the next message after a refused envelope: a DATA
    accepted though no recipient was (RFC 2920 3.1) is ended empty; then reset, or close on 421."""
    if replies[-1][0] == 354:
        smtp.send(b".\r\n")
        smtp.getreply()
    _after_refusal(smtp, replies[-1][0])


def _body(message: Prepared) -> bytes:
    """The message as DATA sends it: dots doubled at line starts, then the end-of-data mark."""
    assert message.data is not None
    body = _DOT_AT_LINE_START.sub(b"..", message.data)
    return body + (b".\r\n" if body.endswith(b"\r\n") else b"\r\n.\r\n")


def send_all(messages: list[Prepared]) -> list[Any]:
    """Send ``messages``; returns, for each, 1 or the exception it raised (the others go on).

    Over the shared SMTP connection, when the server offers PIPELINING, each message goes in one
    round trip instead of two (``_chained``): its body, its end mark and the next message's
    MAIL, RCPT and DATA in one write, as RFC 2920 allows (the message content may start a group
    of commands). A message that cannot go that way (an address or a layout only smtplib or
    Django's classes handle, another backend) is sent by ``send``.
    """
    results: list[Any] = [None] * len(messages)
    connection = getattr(_local, "connection", None)
    chain = [n for n, message in enumerate(messages) if _chainable(message)]
    reachable = getattr(_local, "unreachable", None) is None
    if isinstance(connection, SMTPBackend) and len(chain) > 1 and reachable:
        with suppress(Exception):  # not reachable, no PIPELINING: ``send`` says why, for each
            smtp = _over(connection, partial(_greeted, connection))
            if smtp.does_esmtp and smtp.has_extn("pipelining"):
                chained = _chained(connection, smtp, [messages[n] for n in chain])
                for n, result in zip(chain, chained, strict=True):
                    results[n] = result
    for n, message in enumerate(messages):
        if results[n] is None:  # not chained, or not sent when the connection was lost
            try:
                results[n] = send(message)
            except Exception as exc:  # noqa: BLE001 (this message's result; the others go on)
                results[n] = exc
    return results


def _chainable(message: Prepared) -> bool:
    return (
        isinstance(message, Prepared)
        and message.data is not None
        and bool(_PLAIN_ADDRESS.match(message.sender))
        and bool(_PLAIN_ADDRESS.match(message.recipient))
    )


def _greeted(connection: SMTPBackend) -> smtplib.SMTP:
    smtp = connection.connection
    smtp.ehlo_or_helo_if_needed()
    return smtp


def _chained(connection: SMTPBackend, smtp: smtplib.SMTP, messages: list[Prepared]) -> list[Any]:
    """Send ``messages`` pipelined one after the other; each one's 1, refusal, or None when the
    connection was lost before its outcome was known (``send_all`` sends those again, over a
    new connection, as ``send`` does for a message whose connection dropped)."""
    results: list[Any] = [None] * len(messages)
    sizes = smtp.has_extn("size")

    def envelope(message: Prepared) -> str:
        return _envelope(message, f" size={len(message.data or b'')}" if sizes else "")

    sent_body: int | None = None  # the message whose body went last; its reply not yet read
    try:
        smtp.send(envelope(messages[0]))
        for n, message in enumerate(messages):
            if sent_body is not None:
                code, reply = smtp.getreply()
                results[sent_body] = 1 if code == 250 else smtplib.SMTPDataError(code, reply)
                sent_body = None
                if code == 421:  # the server is closing: this message's commands are lost with it
                    smtp.close()
                    break
            following = envelope(messages[n + 1]).encode() if n + 1 < len(messages) else b""
            replies = _envelope_replies(smtp)
            refusal = _refusal(message, replies)
            if refusal is not None:
                results[n] = refusal
                _end_refused(smtp, replies)  # nothing else is on its way: RSET may take its turn
                if smtp.sock is None:  # closed on 421
                    break
                if following:
                    smtp.send(following)
                continue
            smtp.send(_body(message) + following)
            sent_body = n
        if sent_body is not None:
            code, reply = smtp.getreply()
            results[sent_body] = 1 if code == 250 else smtplib.SMTPDataError(code, reply)
            if code == 421:
                smtp.close()
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        connection.close()  # what was not answered is sent again, one by one
    except Exception as exc:  # noqa: BLE001 (a timeout: what was not answered fails with it)
        connection.close()
        results = [exc if result is None else result for result in results]
    return results


_DOT_AT_LINE_START = re.compile(rb"(?m)^\.")  # doubled in the message (RFC 5321 4.5.2), as smtplib does


def _after_refusal(smtp: smtplib.SMTP, code: int) -> None:
    """What ``sendmail`` does when the server refuses a step: close on 421 (the server is
    closing), else reset the transaction so the connection can send the next message."""
    if code == 421:
        smtp.close()
    else:
        smtp._rset()  # sendmail's own quiet RSET


# An address smtplib's quoteaddr gives back as it is, in angle brackets: a dot-atom, ASCII.
_PLAIN_ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+\Z")


def prepare(*, subject: str, to_name: str, to_address: str, text: str, html: str, sender: str = "") -> Prepared:
    """A message of a plain text and an HTML version to one person, from ``sender`` (a From
    value, ``Name <address>``), else DEFAULT_FROM_EMAIL."""
    sender = sender or settings.DEFAULT_FROM_EMAIL

    def build() -> EmailMessage:
        message = EmailMultiAlternatives(
            subject=subject, body=text, from_email=sender, to=[display_address(to_name, to_address)]
        )
        message.attach_alternative(html, "text/html")
        return message

    for name, value in (("Subject", subject), ("To", to_name + to_address)):
        if "\r" in value or "\n" in value:  # what Django raises for such a message too
            raise BadHeaderError(f"Header values can't contain newlines (got {value!r} for header {name!r})")
    from_header, envelope = _sender(sender)
    data = None
    if to_address.isascii() and text:  # (Django leaves an empty text part out)
        data = _alternative_bytes(
            [("Subject", _subject_value(subject)), ("From", from_header),
             ("To", formataddr((to_name, to_address), charset="utf-8"))],
            text,
            html,
        )
    return Prepared(envelope, to_address, data, build)


def display_address(name: str, address: str) -> str:
    """``Name <address>`` for a To header, quoted where the name needs it (a comma, a quote)."""
    if not name:
        return address
    try:
        return str(Address(display_name=name, addr_spec=address))
    except (ValueError, IndexError, TypeError, MessageError):  # the stdlib cannot parse it: as typed
        return f"{name} <{address}>"


MAX_HEADER_LINE = 78  # RFC 5322's recommended limit; longer headers are folded by Django
MAX_BODY_LINE = 998  # RFC 5322's hard limit; Django sends longer lines quoted-printable


def _alternative_bytes(headers: list[tuple[str, str]], text: str, html: str) -> bytes | None:
    """multipart/alternative with ``text`` and ``html`` in UTF-8 (7bit when ASCII, else 8bit, as
    Django sends them), after ``headers`` (encoded values) and a date and message id; None when a
    header line or a body line is too long to be sent as it is."""
    # Values come folded where the stdlib had to (an encoded subject or name): "\n " or "\r\n ".
    lines = [f"{name}: {value}".replace("\r\n", "\n").replace("\n", "\r\n") for name, value in headers]
    if any(len(line) > MAX_HEADER_LINE for line in "\r\n".join(lines).split("\r\n")):
        return None
    parts = []
    for subtype, body in (("plain", text), ("html", html)):
        encoded = body.replace("\r\n", "\n").replace("\r", "\n").encode()
        if len(encoded) > MAX_BODY_LINE and max(map(len, encoded.split(b"\n"))) > MAX_BODY_LINE:
            return None
        parts.append((subtype, "7bit" if body.isascii() else "8bit", encoded.replace(b"\n", b"\r\n")))
    boundary = "===============" + secrets.token_hex(10) + "=="
    while any(boundary.encode() in body for _, _, body in parts):
        boundary = "===============" + secrets.token_hex(10) + "=="
    head = "\r\n".join([
        f'Content-Type: multipart/alternative;\r\n boundary="{boundary}"',
        "MIME-Version: 1.0",
        *lines,
        f"Date: {_date(int(time.time()), settings.EMAIL_USE_LOCALTIME)}",
        f"Message-ID: <{time.time_ns()}.{_PID}.{secrets.token_hex(8)}@{DNS_NAME}>",
    ])
    out = [head.encode(), b""]
    for subtype, encoding, body in parts:
        out += [
            f"--{boundary}".encode(),
            f'Content-Type: text/{subtype}; charset="utf-8"'.encode(),
            b"MIME-Version: 1.0",
            f"Content-Transfer-Encoding: {encoding}".encode(),
            b"",
            body,
        ]
    out += [f"--{boundary}--".encode(), b""]
    return b"\r\n".join(out)


@lru_cache(maxsize=4)
def _date(second: int, localtime: bool) -> str:
    """The Date header's value for a second: the same for every message sent in it."""
    return formatdate(second, localtime=localtime)


#: A Message-ID is the time in nanoseconds, the process and 64 random bits (``make_msgid`` made
#: the same kind of id, at a quarter of a message's layout time).
_PID = os.getpid()
os.register_at_fork(after_in_child=lambda: globals().update(_PID=os.getpid()))


def _subject_value(subject: str) -> str:
    if subject.isascii() and len(subject) <= MAX_HEADER_LINE - len("Subject: "):
        return subject
    return Header(subject, None if subject.isascii() else "utf-8", header_name="Subject").encode(
        linesep="\r\n"
    )


_from_values: dict[str, tuple[str, str]] = {}


def _sender(sender: str) -> tuple[str, str]:
    """The From header value and the envelope address of ``sender`` (a setting: worked out once)."""
    if sender not in _from_values:
        header = sender if sender.isascii() else sanitize_address(sender, "utf-8")
        _from_values[sender] = (header, parseaddr(sanitize_address(sender, "utf-8"))[1])
    return _from_values[sender]
