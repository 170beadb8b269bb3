"""leadbase.mail: prepared messages laid out directly as bytes must read exactly as Django's."""

from __future__ import annotations

import email
import smtplib
import socket
import threading
from email import policy

import pytest
from django.core import mail as outbox
from django.core.mail import BadHeaderError
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from leadbase import mail
from tests.capture.test_optin import smtp_inbox  # noqa: F401  (an aiosmtpd server on 127.0.0.1)

# Names as a person types them: letters of any script, spaces, punctuation that needs quoting.
NAMES = st.text(
    alphabet=st.characters(codec="utf-8", categories=["L", "M", "N", "Zs", "Pc", "Pd", "Po", "Ps", "Pe", "So"]),
    max_size=60,
).map(lambda s: " ".join(s.split()))
# Addresses as they reach a confirmation email: valid ones (the lead's, cleaned). An invalid one
# such as "0.@x.org" (a dot before the @) is refused long before, and Django cannot address it.
ADDRESSES = st.from_regex(
    r"[a-z0-9]{1,8}([._+-][a-z0-9]{1,8}){0,3}@[a-z0-9]([a-z0-9-]{0,18}[a-z0-9])?\.(org|com|de)", fullmatch=True
)
TEXTS = st.text(
    alphabet=st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"], include_characters="\n"),
    max_size=300,
)


def read(data: bytes) -> email.message.EmailMessage:
    return email.message_from_bytes(data, policy=policy.default)


def summary(message: email.message.EmailMessage) -> dict:
    """What a mail client shows: headers decoded, each part's type, charset and text."""
    to = message["To"].addresses
    return {
        "subject": str(message["Subject"]),
        "from": [(a.display_name, a.addr_spec) for a in message["From"].addresses],
        "to": [(a.display_name, a.addr_spec) for a in to],
        "type": message.get_content_type(),
        "parts": [
            (p.get_content_type(), p.get_content_charset(), p.get_content().replace("\r\n", "\n"))
            for p in message.iter_parts()
        ],
    }


@hsettings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=NAMES, address=ADDRESSES, subject=TEXTS.map(lambda s: " ".join(s.split())), text=TEXTS, html=TEXTS)
def test_the_bytes_read_as_djangos_message(name, address, subject, text, html):
    prepared = mail.prepare(subject=subject, to_name=name, to_address=address, text=text, html="<p>" + html)
    django_bytes = prepared.build().message().as_bytes(linesep="\r\n")
    if prepared.data is None:  # left to Django: a header it folds over lines, or no text part
        head = django_bytes.split(b"\r\n\r\n")[0].split(b"\r\n")
        assert not text or any(line[:1] in b" \t" and b"boundary=" not in line for line in head)
        return
    assert prepared.data.endswith(b"--\r\n") and b"\n" not in prepared.data.replace(b"\r\n", b"")
    ours, djangos = summary(read(prepared.data)), summary(read(django_bytes))
    # Where the stdlib folds a subject between plain and encoded words, Django's copy reads back
    # with a space that was not in the subject; ours reads back as given.
    assert ours.pop("subject") == subject
    assert "".join(djangos.pop("subject").split()) == "".join(subject.split())
    assert ours == djangos
    assert prepared.recipient == address


def test_a_name_with_a_comma_stays_one_recipient():
    prepared = mail.prepare(subject="Hi", to_name="Lovelace, Ada", to_address="ada@example.org", text="x", html="y")
    for data in (prepared.data, prepared.build().message().as_bytes()):
        (recipient,) = read(data)["To"].addresses
        assert (recipient.display_name, recipient.addr_spec) == ("Lovelace, Ada", "ada@example.org")


def test_non_ascii_text_is_sent_as_8bit_utf8_and_ascii_as_7bit():
    prepared = mail.prepare(subject="Grüße", to_name="Zoë Ålander", to_address="zoe@example.org",
                            text="Hallo Zoë,\n", html="<p>plain ascii</p>")
    message = read(prepared.data)
    plain, html = message.iter_parts()
    assert plain["Content-Transfer-Encoding"] == "8bit" and plain.get_content() == "Hallo Zoë,\r\n"
    assert html["Content-Transfer-Encoding"] == "7bit"
    assert str(message["Subject"]) == "Grüße" and message["To"].addresses[0].display_name == "Zoë Ålander"
    assert b"Zo\xc3\xab" not in prepared.data.split(b"\r\n\r\n")[0]  # headers stay ASCII (RFC 2047)


def test_what_the_direct_layout_does_not_handle_is_left_to_django():
    long_line = mail.prepare(subject="Hi", to_name="Ada", to_address="ada@example.org", text="x" * 1200, html="y")
    international = mail.prepare(subject="Hi", to_name="Ada", to_address="ada@bücher.de", text="x", html="y")
    assert long_line.data is None and international.data is None
    assert "x" * 1200 in long_line.build().body


@pytest.mark.parametrize("field", ["subject", "to_name", "to_address"])
def test_a_newline_in_a_header_is_refused_as_django_refuses_it(field):
    values = {"subject": "Hi", "to_name": "Ada", "to_address": "ada@example.org", "text": "x", "html": "y"}
    values[field] = values[field][:1] + "\r\nBcc: everyone@example.org"
    with pytest.raises(BadHeaderError):
        mail.prepare(**values)


def test_outside_a_shared_connection_the_django_message_is_sent(settings):
    prepared = mail.prepare(subject="Hi", to_name="Ada Lovelace", to_address="ada@example.org", text="x", html="y")
    assert mail.send(prepared) == 1
    (sent,) = outbox.outbox
    assert sent.to == ["Ada Lovelace <ada@example.org>"] and sent.alternatives[0][1] == "text/html"


@pytest.mark.parametrize(("pipelining", "writes"), [(True, 2), (False, 4)])
def test_over_a_shared_smtp_connection_the_prepared_bytes_arrive(
    smtp_inbox, monkeypatch, pipelining, writes  # noqa: F811
):
    """With a server that offers PIPELINING, each message takes two writes (MAIL, RCPT and DATA
    together, then the message), else four; the same bytes arrive either way."""
    smtp_inbox.pipelining = pipelining
    prepared = [
        mail.prepare(subject="Hi", to_name=f"Person {n}", to_address=f"p{n}@example.org", text=f"Hello {n}", html="h")
        for n in range(3)
    ]
    sent = []
    monkeypatch.setattr(smtplib.SMTP, "send", lambda smtp, s, send=smtplib.SMTP.send: sent.append(s) or send(smtp, s))
    with mail.shared_connection():
        mail.send(prepared[0])  # opens the connection and greets the server
        before = len(sent)
        assert [mail.send(p) for p in prepared[1:]] == [1, 1]
        assert len(sent) - before == 2 * writes
    assert [(rcpt, content) for _, rcpt, content in smtp_inbox.messages] == [
        (p.recipient, p.data) for p in prepared
    ]
    assert len(smtp_inbox.connections) == 1
    assert summary(read(smtp_inbox.messages[2][2]))["parts"][0][2] == "Hello 2"


@pytest.mark.parametrize("pipelining", [True, False])
def test_a_line_that_starts_with_a_dot_arrives_as_written(smtp_inbox, pipelining):  # noqa: F811
    smtp_inbox.pipelining = pipelining
    text = "First line\n.\n..two dots\n.end"
    prepared = mail.prepare(subject="Hi", to_name="Ada", to_address="ada@example.org", text=text, html=".x")
    with mail.shared_connection():
        assert mail.send(prepared) == 1
    (_, _, content), = smtp_inbox.messages
    assert content == prepared.data
    assert summary(read(content))["parts"] == [
        ("text/plain", "utf-8", text), ("text/html", "utf-8", ".x"),
    ]


@pytest.mark.parametrize("pipelining", [True, False])
@pytest.mark.parametrize(
    ("step", "raised"),
    [("MAIL", smtplib.SMTPSenderRefused), ("RCPT", smtplib.SMTPRecipientsRefused), ("DATA", smtplib.SMTPDataError)],
)
def test_a_refused_step_raises_what_smtplib_raises_and_the_connection_sends_the_next(
    smtp_inbox, step, raised, pipelining  # noqa: F811
):
    smtp_inbox.pipelining = pipelining
    accept = {
        "MAIL": lambda server, session, envelope, address, options: _accept_mail(envelope, address, options),
        "RCPT": lambda server, session, envelope, address, options: _accept_rcpt(envelope, address),
        "DATA": smtp_inbox.handle_DATA,
    }[step]
    refusals = []

    async def refuse_the_first(server, session, envelope, *args):
        if not refusals:
            refusals.append(step)
            return "554 not this one"
        result = accept(server, session, envelope, *args)
        return await result if step == "DATA" else result

    setattr(smtp_inbox, f"handle_{step}", refuse_the_first)  # read when the connection opens
    refused = mail.prepare(subject="Hi", to_name="A", to_address="a@example.org", text="x", html="y")
    after = mail.prepare(subject="Hi", to_name="B", to_address="b@example.org", text="x", html="y")
    with mail.shared_connection():
        with pytest.raises(raised) as caught:
            mail.send(refused)
        assert mail.send(after) == 1
    if step == "RCPT":
        assert caught.value.recipients == {"a@example.org": (554, b"not this one")}
    else:
        assert (caught.value.smtp_code, caught.value.smtp_error) == (554, b"not this one")
    assert [rcpt for _, rcpt, _ in smtp_inbox.messages] == ["b@example.org"]
    assert len(smtp_inbox.connections) == 1


def _messages(count: int, text: str = "Hello") -> list[mail.Prepared]:
    return [
        mail.prepare(subject="Hi", to_name=f"P {n}", to_address=f"p{n}@example.org", text=f"{text} {n}", html="h")
        for n in range(count)
    ]


@pytest.mark.parametrize(("pipelining", "writes"), [(True, 6), (False, 20)])
def test_send_all_takes_one_write_per_message_when_the_server_pipelines(
    smtp_inbox, monkeypatch, pipelining, writes  # noqa: F811
):
    """Each message's body goes with the next message's MAIL, RCPT and DATA (RFC 2920): five
    messages in six writes after the greeting, one round trip each; without PIPELINING, four
    writes each as before. The same bytes arrive either way, in order."""
    smtp_inbox.pipelining = pipelining
    prepared = _messages(5)
    sent = []
    monkeypatch.setattr(smtplib.SMTP, "send", lambda smtp, s, send=smtplib.SMTP.send: sent.append(s) or send(smtp, s))
    with mail.shared_connection():
        mail.send(_messages(1, "Greeting")[0])  # opens the connection and greets the server
        before = len(sent)
        assert mail.send_all(prepared) == [1] * 5
        assert len(sent) - before == writes
    assert [(rcpt, content) for _, rcpt, content in smtp_inbox.messages[1:]] == [
        (p.recipient, p.data) for p in prepared
    ]
    assert len(smtp_inbox.connections) == 1


def _accept_mail(envelope, address, options):
    envelope.mail_from = address
    envelope.mail_options.extend(options)
    return "250 OK"


def _accept_rcpt(envelope, address):
    envelope.rcpt_tos.append(address)
    return "250 OK"


def test_an_address_that_is_no_plain_dot_atom_is_sent_by_smtplib_itself(smtp_inbox):  # noqa: F811
    quoted = '"ada lovelace"@example.org'
    prepared = mail.prepare(subject="Hi", to_name="Ada", to_address=quoted, text="x", html="y")
    with mail.shared_connection():
        assert mail.send(prepared) == 1
    assert [(rcpt, content) for _, rcpt, content in smtp_inbox.messages] == [(quoted, prepared.data)]


@hsettings(max_examples=100)
@given(address=ADDRESSES)
def test_the_generated_addresses_are_ones_a_lead_can_have(address):
    from leadbase.lib.emails import clean_email

    assert clean_email(address).address == address


@pytest.mark.parametrize("step", ["MAIL", "RCPT"])
def test_a_server_closing_mid_step_fails_that_message_and_the_next_goes_over_a_new_connection(
    smtp_inbox, step  # noqa: F811
):
    """421 to a pipelined step: the other replies never come; the connection is closed at once."""
    closed = []

    async def close_the_first(server, session, envelope, address, options):
        if not closed:
            closed.append(step)
            return "421 shutting down"
        return _accept_mail(envelope, address, options) if step == "MAIL" else _accept_rcpt(envelope, address)

    setattr(smtp_inbox, f"handle_{step}", close_the_first)
    first = mail.prepare(subject="Hi", to_name="A", to_address="a@example.org", text="x", html="y")
    second = mail.prepare(subject="Hi", to_name="B", to_address="b@example.org", text="x", html="y")
    with mail.shared_connection():
        with pytest.raises(smtplib.SMTPException) as caught:
            mail.send(first)
        assert mail.is_temporary(caught.value)
        assert mail.send(second) == 1
    assert [rcpt for _, rcpt, _ in smtp_inbox.messages] == ["b@example.org"]


class ScriptedServer:
    """An SMTP server that answers each command from a script (a list of replies per verb),
    for replies a well-behaved server such as aiosmtpd never gives."""

    def __init__(self, replies: dict[str, list[str]]):
        self.replies, self.received = replies, []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        conn, _ = self.listener.accept()
        with conn, conn.makefile("rb") as lines:
            conn.sendall(b"220 scripted\r\n")
            in_data = False
            for line in lines:
                self.received.append(line)
                verb = "." if in_data and line == b".\r\n" else line[:4].decode().upper()
                if in_data and verb != ".":
                    continue
                in_data = False
                reply = self.replies[verb].pop(0)
                in_data = reply.startswith("354")
                conn.sendall(reply.encode() + b"\r\n")
                if verb == "QUIT":
                    return


def test_data_accepted_after_the_recipient_was_refused_is_ended_empty(settings):
    """RFC 2920 3.1: with every recipient refused, a DATA that the server still accepts is ended
    with the end-of-data mark alone; the message is not sent, and the next one goes out."""
    server = ScriptedServer({
        "EHLO": ["250-scripted\r\n250-PIPELINING\r\n250 HELP"],
        "MAIL": ["250 OK", "250 OK"],
        "RCPT": ["550 no such user", "250 OK"],
        "DATA": ["354 go ahead", "354 go ahead"],
        ".": ["554 no valid recipients", "250 queued"],
        "RSET": ["250 OK"],
        "QUIT": ["221 bye"],
    })
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    refused = mail.prepare(subject="Hi", to_name="A", to_address="a@example.org", text="secret", html="y")
    after = mail.prepare(subject="Hi", to_name="B", to_address="b@example.org", text="x", html="y")
    with mail.shared_connection():
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            mail.send(refused)
        assert mail.send(after) == 1
    server.thread.join(5)
    assert caught.value.recipients == {"a@example.org": (550, b"no such user")}
    verbs = [line.split(b" ")[0].split(b":")[0].rstrip(b"\r\n").upper() for line in server.received]
    first_end = verbs.index(b".")
    assert verbs[: first_end + 2] == [b"EHLO", b"MAIL", b"RCPT", b"DATA", b".", b"RSET"]
    assert b"secret" not in b"".join(server.received[: first_end + 2])
    assert b"".join(server.received).count(b"Content-Type: multipart/alternative") == 1


def _point_at(settings, server) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


# The second of three messages refused at each step, with the replies a server gives the steps
# pipelined after a refused one.
REFUSED_AT = {
    "MAIL": ({"MAIL": ["250 OK", "553 not this sender", "250 OK"], "RCPT": ["250 OK", "503 MAIL first", "250 OK"],
              "DATA": ["354 go", "503 no recipients", "354 go"], ".": ["250 queued"] * 2, "RSET": ["250 OK"]},
             smtplib.SMTPSenderRefused),
    "RCPT": ({"MAIL": ["250 OK"] * 3, "RCPT": ["250 OK", "550 no such user", "250 OK"],
              "DATA": ["354 go", "554 no valid recipients", "354 go"], ".": ["250 queued"] * 2, "RSET": ["250 OK"]},
             smtplib.SMTPRecipientsRefused),
    "DATA": ({"MAIL": ["250 OK"] * 3, "RCPT": ["250 OK"] * 3, "DATA": ["354 go", "451 try later", "354 go"],
              ".": ["250 queued"] * 2, "RSET": ["250 OK"]},
             smtplib.SMTPDataError),
    ".": ({"MAIL": ["250 OK"] * 3, "RCPT": ["250 OK"] * 3, "DATA": ["354 go"] * 3,
           ".": ["250 queued", "554 content refused", "250 queued"]},
          smtplib.SMTPDataError),
}


@pytest.mark.parametrize("step", list(REFUSED_AT))
def test_send_all_gives_a_refused_message_its_error_and_sends_the_others(settings, step):
    replies, raised = REFUSED_AT[step]
    server = ScriptedServer({"EHLO": ["250-scripted\r\n250-PIPELINING\r\n250 HELP"], **replies, "QUIT": ["221 bye"]})
    _point_at(settings, server)
    prepared = _messages(3)

    with mail.shared_connection():
        results = mail.send_all(prepared)
    server.thread.join(5)

    assert isinstance(results[1], raised) and [results[0], results[2]] == [1, 1]
    received = b"".join(server.received)
    assert received.count(b"Hello 0") == received.count(b"Hello 2") == 1
    assert received.count(b"Hello 1") == (1 if step == "." else 0)  # a refused envelope: no content
    # Every scripted reply was used, in order (a RSET only after a refused envelope, when
    # nothing else is on its way): the replies were never read out of turn.
    assert all(not left for verb, left in server.replies.items() if verb != "QUIT")


def test_send_all_after_a_server_closing_sends_the_rest_over_a_new_connection(smtp_inbox):  # noqa: F811
    """421 at the end of the second message's content: that message fails for now (to be tried
    again), and the third, whose commands were on their way, goes over a new connection."""
    real, closed = smtp_inbox.handle_DATA, []

    async def close_once(server, session, envelope):
        if envelope.rcpt_tos == ["p1@example.org"] and not closed:
            closed.append(True)
            return "421 closing"
        return await real(server, session, envelope)

    smtp_inbox.handle_DATA = close_once
    with mail.shared_connection():
        results = mail.send_all(_messages(3))

    assert results[0] == results[2] == 1
    assert isinstance(results[1], smtplib.SMTPDataError) and mail.is_temporary(results[1])
    assert [rcpt for _, rcpt, _ in smtp_inbox.messages] == ["p0@example.org", "p2@example.org"]
    assert len(smtp_inbox.connections) == 2


def test_send_all_without_a_server_fails_every_message_at_once(settings):
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False

    with mail.shared_connection():
        results = mail.send_all(_messages(3))

    assert all(isinstance(r, OSError) and mail.is_temporary(r) for r in results)


def test_each_message_has_an_id_of_its_own_and_the_date_it_was_laid_out():
    import re
    import time
    from email.utils import mktime_tz, parsedate_tz

    before = int(time.time())
    messages = [read(mail.prepare(subject="Hi", to_name="Ada", to_address="ada@example.org", text="x", html="y").data)
                for _ in range(500)]
    ids = [m["Message-ID"] for m in messages]
    assert len(set(ids)) == 500
    assert all(re.fullmatch(r"<\d+\.\d+\.[0-9a-f]{16}@[^@<>\s]+>", i) for i in ids)
    seconds = {mktime_tz(parsedate_tz(m["Date"])) for m in messages}  # "-0000": a time in UTC
    assert all(before <= second <= time.time() for second in seconds)


def test_a_forked_process_s_message_ids_carry_its_own_process_id():
    import os

    def pid_in_id() -> int:
        data = mail.prepare(subject="Hi", to_name="Ada", to_address="ada@example.org", text="x", html="y").data
        return int(read(data)["Message-ID"].split(".")[1])

    assert pid_in_id() == os.getpid()
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # the worker's lanes and granian's processes are forked after the import
        try:
            os.write(writer, str(pid_in_id() == os.getpid()).encode())
        finally:
            os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    assert os.read(reader, 10) == b"True"
