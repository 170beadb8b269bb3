"""The honeypot ``fax``: any value a bot could type in counts as filled, ``0`` included; an
untouched input ("", or a JSON client's ``null`` or ``false``) does not."""

from __future__ import annotations

import json

import pytest

from leadbase.capture import spam
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


@pytest.mark.parametrize(
    "value",
    ["+1 555 0100", " ", "0", 0, 0.0, 5551234, True, [], {}],
    ids=["text", "space", "text-0", "int-0", "float-0", "number", "true", "list", "object"],
)
def test_any_value_in_the_honeypot_is_spam(form, value):
    assert spam.spam_reason(form, {**ADA, "fax": value}) == "honeypot"


@pytest.mark.parametrize("value", [None, "", False])
def test_an_untouched_honeypot_is_not_spam(form, value):
    assert spam.spam_reason(form, {**ADA, "fax": value}) == ""


def test_a_json_zero_in_the_honeypot_gets_the_usual_answer_and_no_lead(client, form):
    body = json.dumps({**ADA, "fax": 0})

    response = client.post("/f/contact", body, content_type="application/json")

    assert response.status_code == 200 and response.json()["ok"] is True
    row = Submission.objects.get()
    assert (row.status, row.spam_reason) == ("spam", "honeypot")
    assert not Lead.objects.exists()
