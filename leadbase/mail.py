"""Sending email from background tasks, over one SMTP connection per batch of tasks.

Django's ``EmailMessage.send()`` opens a connection, greets the server, sends and quits: four
round trips and a TCP handshake for every message. The worker (``leadbase.worker``) runs its
tasks inside ``shared_connection()``, so the messages sent by a batch of tasks (a burst of
double opt-in confirmations) share one connection, opened on first use. Outside it (a task run
on its own, tests), ``send`` is ``message.send()``.
"""

from __future__ import annotations

import smtplib
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from django.core.mail import EmailMessage, get_connection

_local = threading.local()


@contextmanager
def shared_connection() -> Iterator[None]:
    """Within this block, ``send`` reuses one connection; it is closed at the end."""
    if getattr(_local, "connection", None) is not None:  # nested: the outer block owns it
        yield
        return
    _local.connection = get_connection()
    try:
        yield
    finally:
        connection, _local.connection = _local.connection, None
        with suppress(Exception):  # a server gone at the end changes nothing already sent
            connection.close()


def send(message: EmailMessage) -> int:
    """Send ``message``, over the shared connection when there is one. A connection the server
    dropped meanwhile (idle timeout, restart) is reopened once."""
    connection = getattr(_local, "connection", None)
    if connection is None:
        return message.send()
    message.connection = connection
    try:
        connection.open()  # a no-op while open; kept open by the block, not per message
        return message.send()
    except (smtplib.SMTPServerDisconnected, ConnectionError):
        connection.close()
        connection.open()
        return message.send()
