"""What a form post is answered: the thank-you note with double opt-in, and every field at fault
named at once (the JSON ``errors`` list, the page with each input marked)."""

from __future__ import annotations

import re

import pytest

from leadbase.capture.actions import do_create_form
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from tests.capture.test_submit import ADA, HTML, assert_no_lead_written, post_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def test_the_note_follows_what_was_posted_not_what_became_of_it(client, form):
    unticked = post_json(client, ADA).json()
    spam = post_json(client, {**ADA, "fax": "555", "consent_email_marketing": "on"}).json()
    real = post_json(client, {**ADA, "consent_email_marketing": "on"}).json()

    assert "note" not in unticked  # no consent asked for: no email to wait for
    assert Submission.objects.filter(status="spam").count() == 1
    assert spam == real  # a bot learns nothing; nor does anyone typing a known address
    assert "ada@example.org" in real["note"]


def test_a_form_without_an_email_field_promises_no_email(client, personas):
    do_create_form(
        personas.workspace,
        {"name": "Call me", "fields": [{"key": "name"}, {"key": "phone"}],
         "consents": [{"purpose": "calls", "text": "Call me about offers."}]},
        actor=None,
    )

    answer = post_json(client, {"name": "Ada Lovelace", "phone": "+44 20 7946 0018", "consent_calls": "on"},
                       slug="call-me")

    assert answer.status_code == 200 and "note" not in answer.json()


def _required_everything(personas):
    return do_create_form(
        personas.workspace,
        {
            "name": "Workshop",
            "fields": [
                {"key": "name", "label": "Name", "required": True},
                {"key": "email", "label": "Email", "type": "email", "required": True},
                {"key": "phone", "label": "Phone", "type": "phone"},
                {"key": "company", "label": "Company", "required": True},
            ],
            "consents": [{"purpose": "email_marketing", "text": "News, monthly.", "required": True}],
        },
        actor=None,
    )


def test_every_field_at_fault_is_named_at_once_with_the_first_as_before(client, personas):
    """A visitor corrected one field per send: an empty name, then the box, then the address,
    then the number, four round trips."""
    _required_everything(personas)

    response = post_json(client, {"name": "", "email": "jane@@example", "phone": "123"}, slug="workshop")

    body = response.json()
    assert response.status_code == 400
    assert (body["code"], body["field"], body["error"]) == ("missing_field", "name", "Please fill in “Name”.")
    # in the form's order, as the page's focus goes: its inputs, then its boxes
    assert [(e["field"], e["code"]) for e in body["errors"]] == [
        ("name", "missing_field"), ("email", "invalid_email"), ("phone", "invalid_phone"),
        ("company", "missing_field"), ("consent_email_marketing", "consent_required"),
    ]
    row = Submission.objects.get()
    assert (row.status, row.error) == ("rejected", "missing_field: Please fill in “Name”.")
    assert_no_lead_written()


@pytest.mark.parametrize(
    ("post", "fields"),
    [
        # the lead rules refuse the name and the address: both said in one answer
        ({"name": "Test", "email": "jane@example", "phone": "123", "company": "Acme",
          "consent_email_marketing": True}, ["name", "email", "phone"]),
        # the form refuses some fields, the lead rules the name: all of them
        ({"name": "Jane Doe", "email": "", "company": "", "consent_email_marketing": True},
         ["name", "email", "company"]),
    ],
)
def test_a_name_the_lead_rules_refuse_is_named_with_the_other_problems(client, personas, post, fields):
    _required_everything(personas)

    body = post_json(client, post, slug="workshop").json()

    assert [e["field"] for e in body["errors"]] == fields
    assert body["errors"][0]["code"] == "invalid_name" and "placeholder" in body["errors"][0]["error"]
    assert_no_lead_written()


def test_one_field_at_fault_answers_as_before_without_a_list(client, personas):
    _required_everything(personas)

    body = post_json(client, {"name": "Ada Lovelace", "email": "ada@example.org", "company": "Acme"},
                     slug="workshop").json()

    assert body == {"error": "Please tick this box to continue.", "code": "consent_required",
                    "field": "consent_email_marketing"}


def test_a_browser_gets_the_form_back_with_every_field_at_fault_marked(client, personas):
    _required_everything(personas)

    page = client.post(
        "/f/workshop", {"name": "Ada Lovelace", "email": "jane@@example", "company": ""}, **HTML
    ).content.decode()

    assert page.count('aria-invalid="true"') == 3  # email, company, the consent box
    assert 'id="lb-email-error"' in page and "Please fill in “Company”." in page
    assert 'id="lb-consent_email_marketing-error"' in page
    # the focus on the first in the form's order: the address
    assert re.search(r'<input[^>]*name="email"[^>]*autofocus', page)
    assert page.count("autofocus") == 1
