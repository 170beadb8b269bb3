"""`leadbase demo` as its capture parts see it: the sample visitors it makes and what it prints."""

from __future__ import annotations

import io

import pytest
from django.core import mail
from django.core.management import call_command

pytestmark = pytest.mark.django_db

def test_the_demo_s_made_up_visitors_are_sent_no_email(django_capture_on_commit_callbacks):
    # They submit the double opt-in form through the real pipeline, and some do not confirm:
    # their emails, sent through the operator's real mail server, came back as bounces.
    from leadbase.leads.models import Consent

    with django_capture_on_commit_callbacks(execute=True):
        call_command("demo", leads=20, password="demo-password-1", stdout=io.StringIO())

    assert Consent.objects.filter(status="pending", method="form").count() >= 5  # most confirm
    assert mail.outbox == []


def test_the_demo_prints_the_address_it_is_served_at(settings):
    settings.BASE_URL = "https://leads.example.com"
    out = io.StringIO()

    call_command("demo", leads=20, password="demo-password-1", stdout=out)

    assert "Log in at https://leads.example.com as demo@example.com" in out.getvalue()
