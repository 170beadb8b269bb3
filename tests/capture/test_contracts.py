"""POST /f/<slug> and the field contract of docs/capture.md: select and checkbox fields, a split
name (``first_name`` + ``last_name``), and a plain HTML form posted from an allowed site."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import Client

from leadbase.capture.actions import do_create_form
from leadbase.capture.models import Submission
from leadbase.leads.models import Consent, Lead, Touch

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}
ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}
SITE = "https://www.example.com"


def post_json(client: Client, slug: str, body: dict[str, object], **extra):
    return client.post(f"/f/{slug}", json.dumps(body), content_type="application/json", **extra)


def post_urlencoded(client: Client, slug: str, fields: dict[str, str], **extra):
    """As a plain ``<form method="post">`` sends it (no script, no fill-time token)."""
    return client.post(
        f"/f/{slug}",
        urlencode(fields),
        content_type="application/x-www-form-urlencoded",
        **extra,
    )


def assert_no_lead_written() -> None:
    assert not Lead.objects.exists()
    assert not Consent.objects.exists()
    assert not Touch.objects.exists()


def assert_rejected(code: str, message: str) -> None:
    row = Submission.objects.get()
    assert (row.status, row.error, row.lead_id) == ("rejected", f"{code}: {message}", None)


# --- select and checkbox fields ----------------------------------------------------------------


@pytest.fixture
def survey(personas):
    return do_create_form(
        personas.workspace,
        {
            "name": "Survey",
            "fields": [
                {"key": "name"},
                {"key": "email", "type": "email"},
                {"key": "plan", "type": "select", "options": ["Starter", "Pro", "Enterprise"]},
                {"key": "newsletter", "type": "checkbox", "label": "Send me the newsletter"},
            ],
        },
        actor=personas.owner,
    )


@pytest.fixture
def terms_form(personas):
    return do_create_form(
        personas.workspace,
        {
            "name": "Terms",
            "fields": [
                {"key": "name"},
                {"key": "email", "type": "email"},
                {
                    "key": "terms",
                    "type": "checkbox",
                    "label": "I accept the terms",
                    "required": True,
                },
            ],
        },
        actor=personas.owner,
    )


@pytest.mark.parametrize("option", ["Starter", "Enterprise"])
def test_a_listed_option_of_a_select_is_kept_in_the_leads_custom_fields(client, survey, option):
    response = post_json(client, "survey", {**ADA, "plan": option})

    assert response.status_code == 200, response.json()
    assert Lead.objects.get().custom == {"plan": option}
    assert Submission.objects.get().status == "processed"


def test_an_unanswered_optional_select_stores_nothing(client, survey):
    response = post_urlencoded(client, "survey", {**ADA, "plan": ""})

    assert response.status_code == 200
    assert "plan" not in Lead.objects.get().custom


@pytest.mark.parametrize("value", ["Platinum", "Starter, Pro", "Pro2"])
def test_an_option_not_in_the_list_is_refused_naming_the_field_and_writes_no_lead(
    client, survey, value
):
    response = post_json(client, "survey", {**ADA, "plan": value})

    assert response.status_code == 400
    assert response.json() == {
        "error": "Choose one of the options for “Plan”.",
        "code": "invalid_choice",
        "field": "plan",
    }
    assert_rejected("invalid_choice", "Choose one of the options for “Plan”.")
    assert_no_lead_written()


def test_a_browser_posting_an_option_not_in_the_list_gets_the_form_again_with_the_message(
    client, survey
):
    response = post_urlencoded(client, "survey", {**ADA, "plan": "Platinum"}, **HTML)

    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<p class="lb-error" id="lb-plan-error">Choose one of the options for “Plan”.</p>' in page
    )
    assert 'value="Ada Lovelace"' in page
    assert_no_lead_written()


@pytest.mark.parametrize(
    ("post", "ticked"),
    [
        (post_urlencoded, "on"),  # what a browser sends for a ticked box without a value
        (post_urlencoded, "yes"),
        (post_json, True),
        (post_json, "on"),
    ],
)
def test_a_ticked_custom_checkbox_is_stored_as_true(client, survey, post, ticked):
    response = post(client, "survey", {**ADA, "newsletter": ticked})

    assert response.status_code == 200
    assert Lead.objects.get().custom == {"newsletter": True}


@pytest.mark.parametrize(
    ("post", "fields"),
    [
        (post_urlencoded, ADA),  # a browser sends nothing for an unticked box
        (post_urlencoded, {**ADA, "newsletter": ""}),
        (post_urlencoded, {**ADA, "newsletter": "off"}),
        (post_urlencoded, {**ADA, "newsletter": "no"}),
        (post_urlencoded, {**ADA, "newsletter": "0"}),
        (post_json, {**ADA, "newsletter": False}),
        (post_json, {**ADA, "newsletter": "false"}),
    ],
)
def test_an_unticked_custom_checkbox_stores_nothing_and_the_lead_is_made(
    client, survey, post, fields
):
    response = post(client, "survey", fields)

    assert response.status_code == 200
    lead = Lead.objects.get()
    assert "newsletter" not in lead.custom
    assert lead.email_key == "ada@example.org"


@pytest.mark.parametrize(
    ("post", "fields"),
    [
        (post_urlencoded, ADA),
        (post_urlencoded, {**ADA, "terms": "off"}),
        (post_json, {**ADA, "terms": False}),
    ],
)
def test_a_required_checkbox_left_unticked_is_a_missing_field(client, terms_form, post, fields):
    response = post(client, "terms", fields)

    assert response.status_code == 400
    assert response.json() == {
        "error": "Please fill in “I accept the terms”.",
        "code": "missing_field",
        "field": "terms",
    }
    assert_rejected("missing_field", "Please fill in “I accept the terms”.")
    assert_no_lead_written()


def test_a_required_checkbox_ticked_lets_the_lead_through(client, terms_form):
    response = post_urlencoded(client, "terms", {**ADA, "terms": "on"})

    assert response.status_code == 200
    assert Lead.objects.get().custom == {"terms": True}


# --- first_name + last_name --------------------------------------------------------------------


@pytest.fixture
def split_name_form(personas):
    return do_create_form(
        personas.workspace,
        {
            "name": "Split",
            "fields": [
                {"key": "first_name", "required": True},
                {"key": "last_name"},
                {"key": "email", "type": "email", "required": True},
            ],
        },
        actor=personas.owner,
    )


@pytest.mark.parametrize(
    ("first", "last", "name"),
    [
        ("Grace", "Hopper", "Grace Hopper"),
        ("  Grace ", " Hopper  ", "Grace Hopper"),
        ("Gabriel", "García Márquez", "Gabriel García Márquez"),
    ],
)
def test_first_and_last_name_make_the_leads_name_and_its_parts(
    client, split_name_form, first, last, name
):
    response = post_json(
        client, "split", {"first_name": first, "last_name": last, "email": "grace@example.org"}
    )

    assert response.status_code == 200, response.json()
    lead = Lead.objects.get()
    assert (lead.name, lead.given_name, lead.family_name) == (name, first.strip(), last.strip())
    assert "first_name" not in lead.custom and "last_name" not in lead.custom


def test_a_plain_html_post_with_first_and_last_name_makes_the_lead_too(client, split_name_form):
    response = post_urlencoded(
        client,
        "split",
        {"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.org"},
        **HTML,
    )

    assert response.status_code == 200
    assert Lead.objects.get().name == "Grace Hopper"


@pytest.mark.parametrize("first", [None, "", "   "])
def test_a_missing_required_first_name_is_named_first_name(client, split_name_form, first):
    body = {"last_name": "Hopper", "email": "grace@example.org"}
    if first is not None:
        body["first_name"] = first

    response = post_json(client, "split", body)

    assert response.status_code == 400
    assert response.json() == {
        "error": "Please fill in “First name”.",
        "code": "missing_field",
        "field": "first_name",
    }
    assert_rejected("missing_field", "Please fill in “First name”.")
    assert_no_lead_written()


@pytest.mark.parametrize(
    ("first", "last"),
    [
        ("=cmd|' /C calc'!A0", "Hopper"),  # a spreadsheet formula
        ("<b>Grace</b>", "Hopper"),  # markup
        ("grace@example.org", "Hopper"),  # an address where the name goes
        ("test", "test"),  # a placeholder
    ],
)
def test_a_name_the_lead_rules_refuse_is_reported_on_first_name(
    client, split_name_form, first, last
):
    response = post_json(
        client, "split", {"first_name": first, "last_name": last, "email": "grace@example.org"}
    )

    assert response.status_code == 400
    body = response.json()
    assert (body["code"], body["field"]) == ("invalid_name", "first_name")
    assert "not a name" in body["error"]
    row = Submission.objects.get()
    assert row.status == "rejected" and row.error.startswith("invalid_name: ")
    assert_no_lead_written()


def test_a_browser_sees_the_refused_name_next_to_the_first_name_input(client, split_name_form):
    response = post_urlencoded(
        client,
        "split",
        {"first_name": "test", "last_name": "test", "email": "grace@example.org"},
        **HTML,
    )

    assert response.status_code == 400
    page = response.content.decode()
    assert 'name="first_name" id="lb-first_name" value="test"' in page
    assert 'aria-describedby="lb-first_name-error"' in page
    assert (
        '<p class="lb-error" id="lb-first_name-error">“test test” is a placeholder, not a name.</p>'
        in page
    )
    assert 'value="grace@example.org"' in page
    assert_no_lead_written()


# --- a plain HTML form on an allowed site ------------------------------------------------------


def make_site_form(personas, **extra):
    return do_create_form(
        personas.workspace,
        {
            "name": "Site",
            "fields": [{"key": "name"}, {"key": "email", "type": "email"}],
            "allowed_origins": [SITE],
            "thank_you_message": "Thanks, we will call you back.",
            **extra,
        },
        actor=personas.owner,
    )


def test_a_plain_html_post_from_an_allowed_site_gets_the_thank_you_page_and_makes_the_lead(
    client, personas
):
    make_site_form(personas)

    response = post_urlencoded(client, "site", ADA, HTTP_ORIGIN=SITE, **HTML)

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "<h1>Thank you</h1>" in page and "Thanks, we will call you back." in page
    assert response["Access-Control-Allow-Origin"] == SITE
    lead = Lead.objects.get()
    assert (lead.name, lead.email_key, lead.source_ref) == (
        "Ada Lovelace",
        "ada@example.org",
        "site",
    )
    assert Submission.objects.get().status == "processed"


def test_a_plain_html_post_from_an_allowed_site_is_sent_to_the_redirect_url(client, personas):
    make_site_form(personas, redirect_url="https://www.example.com/thanks")

    response = post_urlencoded(client, "site", ADA, HTTP_ORIGIN=SITE, **HTML)

    assert response.status_code == 303
    assert response["Location"] == "https://www.example.com/thanks"
    assert Lead.objects.get().email_key == "ada@example.org"


@pytest.mark.parametrize(
    "origin",
    [
        "https://evil.example",
        "http://www.example.com",  # another scheme
        "https://www.example.com:8443",  # another port
        "https://example.com",  # the parent domain
        "null",  # a sandboxed frame or a file on disk
    ],
)
def test_a_plain_html_post_from_a_site_not_allowed_is_403_and_writes_nothing(
    client, personas, origin
):
    make_site_form(personas, redirect_url="https://www.example.com/thanks")

    response = post_urlencoded(client, "site", ADA, HTTP_ORIGIN=origin, **HTML)

    assert response.status_code == 403
    # A browser that navigated here gets a page saying why (JSON clients get the code).
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Sorry, your message was not sent" in page
    assert ("Origin: null" if origin == "null" else f"add {origin} to the form") in page
    assert "Access-Control-Allow-Origin" not in response
    assert not Submission.objects.exists()
    assert_no_lead_written()


def test_the_thank_you_page_of_a_post_from_an_allowed_site_links_back_to_that_page(client, personas):
    # It linked to the form's Leadbase landing page, which a visitor of the company's site never saw.
    form = make_site_form(personas)
    form.redirect_url = ""
    form.save()
    page = "https://www.example.com/contact-us?utm_source=newsletter"

    from_site = post_urlencoded(client, "site", {**ADA, "lb_page": page}, HTTP_ORIGIN="https://www.example.com", **HTML)
    by_referer = post_urlencoded(client, "site", ADA, HTTP_ORIGIN="https://www.example.com", HTTP_REFERER=page, **HTML)
    elsewhere = post_urlencoded(client, "site", {**ADA, "lb_page": "https://evil.example/x"},
                                HTTP_ORIGIN="https://www.example.com", **HTML)

    for response in (from_site, by_referer):
        assert response.status_code == 200
        assert f'<a href="{page.replace("&", "&amp;")}">Back to www.example.com</a>' in response.content.decode()
    assert "evil.example" not in elsewhere.content.decode()  # only a page of an allowed site
