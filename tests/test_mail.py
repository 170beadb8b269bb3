"""leadbase.mail: prepared messages laid out directly as bytes must read exactly as Django's."""

from __future__ import annotations

import email
import smtplib
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


def test_over_a_shared_smtp_connection_the_prepared_bytes_arrive(smtp_inbox):  # noqa: F811
    prepared = [
        mail.prepare(subject="Hi", to_name=f"Person {n}", to_address=f"p{n}@example.org", text=f"Hello {n}", html="h")
        for n in range(3)
    ]
    with mail.shared_connection():
        assert [mail.send(p) for p in prepared] == [1, 1, 1]
    assert [(rcpt, content) for _, rcpt, content in smtp_inbox.messages] == [
        (p.recipient, p.data) for p in prepared
    ]
    assert len(smtp_inbox.connections) == 1
    assert summary(read(smtp_inbox.messages[2][2]))["parts"][0][2] == "Hello 2"


@pytest.mark.parametrize(
    ("step", "raised"),
    [("MAIL", smtplib.SMTPSenderRefused), ("RCPT", smtplib.SMTPRecipientsRefused), ("DATA", smtplib.SMTPDataError)],
)
def test_a_refused_step_raises_what_smtplib_raises_and_the_connection_sends_the_next(
    smtp_inbox, step, raised  # noqa: F811
):
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
