"""`leadbase demo` as its capture parts see it: the sample visitors it makes and what it prints."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command

pytestmark = pytest.mark.django_db

#: Domains that can never receive mail (RFC 2606 and RFC 6761).
RESERVED = ("example.com", "example.org", "example.net")
RESERVED_TLDS = (".example", ".test", ".invalid")


def is_reserved(address: str) -> bool:
    domain = address.rpartition("@")[2].rstrip(">").lower()
    return domain in RESERVED or domain.endswith(RESERVED_TLDS)


def test_the_demo_only_asks_made_up_people_at_reserved_domains_to_confirm(
    django_capture_on_commit_callbacks,
):
    # The demo's visitors submit the double opt-in form, so confirmation emails are queued for
    # them; the operator's worker sends those through the real mail server.
    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", leads=20, password="demo-password-1", stdout=io.StringIO())

    recipients = [address for message in mail.outbox for address in message.to]
    assert len(recipients) >= 5  # the visitors who did not confirm (most do)
    assert [r for r in recipients if not is_reserved(r)] == []


def test_the_demo_prints_the_address_it_is_served_at(settings):
    settings.BASE_URL = "https://leads.example.com"
    out = io.StringIO()

    call_command("demo", leads=20, password="demo-password-1", stdout=out)

    assert "Log in at https://leads.example.com as demo@example.com" in out.getvalue()
