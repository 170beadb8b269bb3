"""`leadbase demo` loads a workspace a newcomer can explore, and can be run twice."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from leadbase.capture.models import Channel, LandingPage, Submission
from leadbase.leads.models import Consent, Lead, PossibleDuplicate

pytestmark = pytest.mark.django_db


def test_the_demo_loads_leads_capture_and_channels_and_prints_the_login():
    out = io.StringIO()
    call_command("demo", leads=300, password="demo-password-1", stdout=out)
    leads = Lead.objects.filter(workspace__slug="demo")
    assert leads.filter(source="import").count() > 250
    assert leads.filter(source="form").count() >= 70
    assert set(leads.values_list("country", flat=True)) >= {"US", "DE", "FR", "JP"}
    assert LandingPage.objects.filter(slug="contact", form__double_opt_in=True).exists()
    assert Channel.objects.filter(workspace__slug="demo").count() == 4
    assert Submission.objects.filter(status="processed", link_code__gt="").count() >= 70
    assert Consent.objects.filter(status="granted").exists() and Consent.objects.filter(status="pending").exists()
    assert "demo@example.com" in out.getvalue() and "demo-password-1" in out.getvalue()
    assert "leadbase serve" in out.getvalue()  # the login is useless until the server runs
    pairs = {
        frozenset((pair.lead_a.name, pair.lead_b.name))
        for pair in PossibleDuplicate.objects.filter(workspace__slug="demo").select_related("lead_a", "lead_b")
    }
    assert {frozenset(("Jonathan Pryce", "Jonathon Pryce")), frozenset(("Katarzyna Nowak", "Katarzina Nowak"))} <= pairs
    assert len(pairs) >= 10  # and more among the imported leads, to review
    count = leads.count()
    call_command("demo", password="demo-password-1", stdout=io.StringIO())
    assert Lead.objects.filter(workspace__slug="demo").count() == count


@pytest.mark.parametrize(
    ("options", "said"),
    [({"password": "short"}, "This password is too short"), ({"leads": 0}, "--leads must be at least 1, not 0")],
)
def test_bad_options_are_one_line_and_load_nothing(options, said):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match=said):
        call_command("demo", **options)
    assert not Lead.objects.exists()
