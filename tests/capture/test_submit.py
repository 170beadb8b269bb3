"""POST /f/<slug>: the submission pipeline, attribution and every bad input (failures and replay:
test_replay.py)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from leadbase.capture.actions import do_create_form, do_update_form
from leadbase.capture.actions import submissions as actions  # where the patched names are looked up
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.errors import FormConfigError
from leadbase.capture.models import Submission
from leadbase.leads.models import Consent, Lead, Touch

pytestmark = pytest.mark.django_db

HTML = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"}
ADA = {"name": "Ada Lovelace", "email": "ada@example.org", "phone": "+44 20 7946 0018"}


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def post_json(client: Client, body: object, slug: str = "contact", **extra):
    return client.post(f"/f/{slug}", json.dumps(body), content_type="application/json", **extra)


def assert_no_lead_written() -> None:
    assert not Lead.objects.exists()
    assert not Consent.objects.exists()
    assert not Touch.objects.exists()


def test_a_plain_form_post_creates_the_lead_its_journal_row_and_a_pending_consent(client, form):
    response = client.post(
        "/f/contact", {**ADA, "consent_email_marketing": "yes"}, REMOTE_ADDR="203.0.113.9", **HTML
    )

    assert response.status_code == 200
    assert "We will get back to you within one working day" in response.content.decode()
    lead = Lead.objects.get()
    assert (lead.name, lead.email_key, lead.phone_e164, lead.source, lead.source_ref) == (
        "Ada Lovelace",
        "ada@example.org",
        "+442079460018",
        "form",
        "contact",
    )
    row = Submission.objects.get()
    assert (row.status, row.lead_id, row.outcome, row.ip) == (
        "processed",
        lead.pk,
        "created",
        "203.0.113.9",
    )
    assert row.payload["email"] == "ada@example.org"
    consent = Consent.objects.get(lead=lead)
    assert (consent.purpose, consent.status, consent.method, consent.ip) == (
        "email_marketing",
        "pending",
        "form",
        "203.0.113.9",
    )
    assert consent.text == form.consents[0]["text"]
    touch = Touch.objects.get(lead=lead, kind="form_submitted")
    assert touch.data["submission"] == row.pk and touch.actor_label == "form contact"
    assert Touch.objects.get(lead=lead, kind="consent").data == {
        "purpose": "email_marketing",
        "status": "pending",
        "method": "form",
        "source_ref": "contact",
        "ip": "203.0.113.9",
    }


def test_the_same_person_ticking_consent_again_keeps_the_granted_consent_and_no_new_entry(
    client, form
):
    post_json(client, {**ADA, "consent_email_marketing": True})
    Consent.objects.update(status="granted")  # confirmed in between
    post_json(client, {**ADA, "consent_email_marketing": True})

    lead = Lead.objects.get()
    consent = Consent.objects.get(lead=lead)
    assert consent.status == "granted"  # a new pending request never downgrades a granted one
    assert Touch.objects.filter(lead=lead, kind="consent").count() == 1
    assert list(Submission.objects.values_list("outcome", flat=True)) == ["created", "merged"]


def test_a_json_post_gets_a_json_answer(client, form):
    response = post_json(client, {**ADA, "consent_email_marketing": True})

    assert response.status_code == 200
    assert response.json() == {
        "ok": True,
        "message": form.thank_you_message,
        "redirect": None,
        # double opt-in: what the visitor does next, from what was posted (spam gets the same)
        "note": "Check your inbox at ada@example.org: we sent you a link to confirm. "
        "If you confirmed before, there is nothing more to do.",
    }
    assert Consent.objects.get().status == "pending"


def test_without_double_opt_in_the_answer_has_no_note(client, form):
    form.double_opt_in = False
    form.save()

    answer = post_json(client, {**ADA, "consent_email_marketing": True})

    assert answer.json() == {"ok": True, "message": form.thank_you_message, "redirect": None}


def test_a_multipart_post_is_accepted(client, form):
    response = client.post("/f/contact", ADA)  # the test client sends multipart/form-data

    assert response.status_code == 200
    assert Lead.objects.get().email_key == "ada@example.org"


def test_utm_tags_come_from_posted_fields_first_then_from_the_page_url(client, form):
    page = "https://www.example.com/p/contact?utm_source=instagram&utm_campaign=spring&lb_link=ig42"
    post_json(
        client,
        {
            **ADA,
            "utm_campaign": "posted",
            "lb_page": page,
            "lb_referrer": "https://l.instagram.com/",
        },
    )

    row = Submission.objects.get()
    assert row.utm == {"utm_source": "instagram", "utm_campaign": "posted"}
    assert (row.link_code, row.page_url, row.referrer) == ("ig42", page, "https://l.instagram.com/")
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_campaign, lead.referrer) == (
        "instagram",
        "posted",
        "https://l.instagram.com/",
    )
    assert lead.last_touch["page"] == page and lead.last_touch["link"] == "ig42"


def test_a_tag_of_the_page_address_holding_a_script_tag_is_left_out_and_the_post_taken(client, form):
    page = "https://x.example/offer?utm_source=%3Cscript%3Ealert(1)%3C/script%3E&utm_campaign=spring"
    response = post_json(client, {**ADA, "lb_page": page})
    referred = post_json(
        client, {**ADA, "email": "bob@example.org"},
        HTTP_REFERER="https://x.example/?utm_campaign=<SCRIPT>alert(2)</SCRIPT>&lb_link=<script>",
    )

    assert (response.status_code, referred.status_code) == (200, 200)
    first, second = Submission.objects.order_by("id")
    assert (first.utm, second.utm, second.link_code) == ({"utm_campaign": "spring"}, {}, "")
    assert first.page_url == page  # the address itself is kept as it came, as text
    assert not Lead.objects.filter(utm_source__contains="<").exists()
    assert not Lead.objects.filter(utm_campaign__contains="<").exists()


def test_the_first_touch_is_one_visits_tags_and_the_last_touch_the_latest(client, form):
    post_json(client, {**ADA, "lb_page": "https://x.example/?utm_source=first&utm_medium=cpc"})
    post_json(client, {**ADA, "lb_page": "https://x.example/?utm_source=second&utm_campaign=c2"})

    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("first", "cpc", "")
    assert (lead.last_touch["utm_source"], lead.last_touch["utm_campaign"]) == ("second", "c2")
    assert "utm_medium" not in lead.last_touch


def test_a_lead_without_a_first_touch_takes_a_later_posts_whole(client, form, personas):
    from leadbase.leads.actions import do_create_lead

    do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@example.org"}, actor=None)
    post_json(client, {**ADA, "lb_page": "https://x.example/?utm_source=second&utm_campaign=c2"})

    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_medium, lead.utm_campaign) == ("second", "", "c2")


def test_the_referer_header_is_the_page_when_no_page_is_posted(client, form):
    client.post(
        "/f/contact", ADA, HTTP_REFERER="http://testserver/p/contact?utm_source=x&utm_medium=social"
    )

    assert Submission.objects.get().utm == {"utm_source": "x", "utm_medium": "social"}


@pytest.mark.parametrize(
    ("fields", "headers", "page"),
    [
        ({}, {"HTTP_REFERER": "http://[oops/p?utm_source=x"}, "http://[oops/p?utm_source=x"),
        ({"lb_page": "https://[::1/p?utm_source=y"}, {}, "https://[::1/p?utm_source=y"),
    ],
)
def test_a_page_address_that_is_no_url_is_kept_as_text_and_the_lead_made(client, form, fields, headers, page):
    response = client.post("/f/contact", {**ADA, **fields}, **headers)

    assert response.status_code == 200
    row = Submission.objects.get()
    assert (row.status, row.page_url, row.utm) == ("processed", page, {})
    assert Lead.objects.get().email_key == "ada@example.org"


def test_a_second_submission_keeps_the_first_touch_and_moves_the_last(client, form):
    post_json(client, {**ADA, "utm_source": "instagram"})
    post_json(client, {**ADA, "utm_source": "newsletter"})

    lead = Lead.objects.get()
    assert lead.utm_source == "instagram"
    assert lead.last_touch["utm_source"] == "newsletter"
    # Another visit's tags are its attribution, not another value of the person to set aside.
    assert "utm_source" not in lead.alternates
    assert not Touch.objects.filter(lead=lead, data__conflicts__has_key="utm_source").exists()
    assert list(Submission.objects.order_by("id").values_list("outcome", flat=True)) == [
        "created",
        "merged",
    ]
    assert Touch.objects.filter(lead=lead, kind="form_submitted").count() == 2


def test_the_form_owner_tags_and_hidden_fields_are_given_to_new_leads(client, personas):
    do_create_form(
        personas.workspace,
        {
            "name": "Webinar",
            "fields": [{"key": "name"}, {"key": "email", "type": "email"}, {"key": "team_size"}],
            "hidden_fields": {"campaign": "q3"},
            "tags": ["webinar"],
            "owner": personas.sales,
        },
        actor=personas.owner,
    )

    post_json(
        client,
        {"name": "Grace Hopper", "email": "grace@example.org", "team_size": "12"},
        slug="webinar",
    )

    lead = Lead.objects.get()
    assert lead.owner == personas.sales
    assert lead.custom == {"team_size": "12", "campaign": "q3", "tags": ["webinar"]}


@pytest.mark.parametrize("failing", [False, True], ids=["processed", "kept_for_replay"])
def test_a_redirect_url_sends_the_browser_there_also_when_processing_fails(
    client, personas, monkeypatch, failing
):
    do_create_form(
        personas.workspace,
        {
            "name": "Trial",
            "fields": [{"key": "name"}, {"key": "email"}],
            "redirect_url": "https://www.example.com/welcome",
        },
        actor=None,
    )
    if failing:
        _fail_lead_work(monkeypatch)

    response = client.post("/f/trial", {"name": "Alan Turing", "email": "alan@example.org"}, **HTML)

    assert (response.status_code, response["Location"]) == (303, "https://www.example.com/welcome")
    assert Submission.objects.get().status == ("failed" if failing else "processed")


def test_a_redirect_after_a_double_optin_email_tells_the_page_so(client, personas):
    # The visitor was sent to the redirect page and never told to confirm from their inbox.
    do_create_form(
        personas.workspace,
        {
            "name": "Trial",
            "fields": [{"key": "name"}, {"key": "email"}],
            "consents": [{"purpose": "email_marketing", "text": "News, monthly."}],
            "redirect_url": "https://www.example.com/welcome?plan=pro#top",
        },
        actor=None,
    )
    post = {"name": "Alan Turing", "email": "alan@example.org", "consent_email_marketing": "on"}

    html = client.post("/f/trial", post, **HTML)
    data = client.post("/f/trial", json.dumps(post), content_type="application/json").json()

    expected = "https://www.example.com/welcome?plan=pro&lb_confirm=email#top"
    assert (html.status_code, html["Location"]) == (303, expected)
    assert data["redirect"] == expected


# --- bad input ------------------------------------------------------------------------------


def test_an_error_page_links_back_to_the_landing_page_of_the_form(client, form, settings):
    settings.FORM_MAX_BODY_KB = 1
    response = client.post("/f/contact", {**ADA, "message": "x" * 2000}, **HTML)

    assert response.status_code == 413
    assert '<a href="/p/contact">Back to the form</a>' in response.content.decode()


def test_an_oversized_body_is_refused_with_413_and_writes_nothing(client, form, settings):
    settings.FORM_MAX_BODY_KB = 1
    response = post_json(client, {**ADA, "message": "x" * 2000})

    assert response.status_code == 413
    assert response.json()["code"] == "body_too_large"
    assert not Submission.objects.exists()
    assert_no_lead_written()


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/xml", "application/json; charset=latin-1"]
)
def test_a_wrong_content_type_is_refused_with_415(client, form, content_type):
    response = client.post("/f/contact", "name=Ada", content_type=content_type)

    assert response.status_code == 415
    assert "application/x-www-form-urlencoded" in response.json()["error"]
    assert not Submission.objects.exists()


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"name=Ada+Lovelace&email=ada%FF%40example.org"),
        ("application/x-www-form-urlencoded", b"name=Ada \xff&email=ada@example.org"),
        ("application/json", b'{"name": "Ada \xc3", "email": "ada@example.org"}'),
    ],
)
def test_invalid_utf8_is_refused_with_400(client, form, content_type, body):
    response = client.generic("POST", "/f/contact", body, content_type=content_type)

    assert response.status_code == 400
    assert response.json() == {
        "error": "The submission is not valid UTF-8 text.",
        "code": "invalid_encoding",
    }
    assert not Submission.objects.exists()


@pytest.mark.parametrize("body", ["{not json", "[1, 2]", '"text"'])
def test_a_body_that_is_not_a_json_object_is_refused(client, form, body):
    response = client.post("/f/contact", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_json")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ('{"name": "Ada\\u0000", "email": "ada@example.org"}', "invalid_value"),
        ('{"name": "Ada \\ud800", "email": "ada@example.org"}', "invalid_value"),
        ('{"name": "Ada", "email": "ada@example.org", "fax": ["\\u0000"]}', "invalid_value"),
        ('{"name": "Ada", "email": "ada@example.org", "phone": 1e400}', "invalid_value"),
        ('{"name": "Ada", "email": "ada@example.org", "phone": NaN}', "invalid_json"),
    ],
)
def test_text_no_database_can_store_is_refused_before_anything_is_written(client, form, body, code):
    response = client.post("/f/contact", body, content_type="application/json")

    assert (response.status_code, response.json()["code"]) == (400, code)
    assert not Submission.objects.exists()


def test_a_field_sent_twice_is_refused(client, form):
    response = client.post(
        "/f/contact",
        "name=Ada&name=Bob&email=a@example.org",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.json() == {
        "error": "“name” was sent more than once.",
        "code": "repeated_field",
        "field": "name",
    }


def test_a_missing_required_field_is_named_and_journaled_as_rejected(client, form):
    response = post_json(client, {"name": "Ada Lovelace", "phone": "+44 20 7946 0018"})

    assert response.status_code == 400
    assert response.json() == {
        "error": "Please fill in “Email”.",
        "code": "missing_field",
        "field": "email",
    }
    row = Submission.objects.get()
    assert (row.status, row.error) == ("rejected", "missing_field: Please fill in “Email”.")
    assert_no_lead_written()


def test_an_unknown_field_is_named(client, form):
    response = post_json(client, {**ADA, "favourite_colour": "blue"})

    assert response.status_code == 400
    assert response.json()["field"] == "favourite_colour"
    assert "is not a field of this form" in response.json()["error"]
    assert_no_lead_written()


@pytest.mark.parametrize(
    ("value", "code"), [(["a", "b"], "invalid_value"), ("x" * 201, "too_long")]
)
def test_values_of_the_wrong_type_or_length_are_refused(client, form, value, code):
    response = post_json(client, {**ADA, "name": value})

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        400,
        code,
        "name",
    )
    assert_no_lead_written()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "<script>alert(1)</script>"),
        ("question", "<script>alert(1)</script>"),
        ("question", "Hello < SCRIPT src=//evil.example/x.js>"),
        ("company", "Acme</script><img src=x>"),
        ("utm_campaign", "<script>alert(1)</script>"),
        ("lb_page", "https://www.example.com/?q=<script>alert(1)</script>"),
    ],
)
def test_a_script_tag_in_any_field_is_refused_naming_the_field(client, personas, field, value):
    do_create_form(
        personas.workspace,
        {
            "name": "Ask",
            "fields": [
                {"key": "name"}, {"key": "email"}, {"key": "company"},
                {"key": "question", "type": "textarea"},
            ],
        },
        actor=None,
    )

    response = post_json(
        client, {"name": "Edsger Dijkstra", "email": "ewd@example.org", field: value}, slug="ask"
    )

    assert response.status_code == 400
    assert response.json() == {
        "error": "Script tags are not allowed here.",
        "code": "markup_not_allowed",
        "field": field,
    }
    row = Submission.objects.get()
    assert (row.status, row.error) == ("rejected", "markup_not_allowed: Script tags are not allowed here.")
    assert_no_lead_written()


def test_other_markup_in_a_field_is_stored_as_text_and_never_rendered(client, personas):
    form = do_create_form(
        personas.workspace,
        {
            "name": "Ask",
            "fields": [{"key": "name"}, {"key": "email"}, {"key": "question", "type": "textarea"}],
        },
        actor=None,
    )
    question = "Is <b>bold</b> ok? 3 < 4 and <img src=x onerror=alert(1)>; a description of scripts"
    response = post_json(
        client, {"name": "Edsger Dijkstra", "email": "ewd@example.org", "question": question}, slug="ask"
    )

    assert response.status_code == 200
    assert Lead.objects.get().custom["question"] == question
    client.force_login(personas.owner)
    page = client.get(f"/capture/forms/{form.pk}/submissions").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page


def test_an_email_the_lead_rules_refuse_is_400_with_the_field(client, form):
    response = post_json(client, {"name": "Ada Lovelace", "email": "not-an-address"})

    assert (response.status_code, response.json()["code"], response.json()["field"]) == (
        400,
        "invalid_email",
        "email",
    )
    assert Submission.objects.get().status == "rejected"
    assert_no_lead_written()


def test_an_unchecked_required_consent_is_refused(client, personas):
    do_create_form(
        personas.workspace,
        {
            "name": "News",
            "fields": [{"key": "name"}, {"key": "email"}],
            "consents": [
                {"purpose": "email_marketing", "text": "Send me the newsletter.", "required": True}
            ],
        },
        actor=None,
    )

    response = post_json(
        client,
        {"name": "Ada Lovelace", "email": "ada@example.org", "consent_email_marketing": False},
        slug="news",
    )

    assert response.json() == {
        "error": "Please tick this box to continue.",
        "code": "consent_required",
        "field": "consent_email_marketing",
    }
    assert_no_lead_written()


def test_a_browser_gets_the_form_again_with_the_error_and_its_values(client, form):
    response = client.post("/f/contact", {"name": "Ada Lovelace", "email": ""}, **HTML)

    assert response.status_code == 400
    page = response.content.decode()
    assert "Please fill in “Email”." in page and 'value="Ada Lovelace"' in page
    assert "<h1>Talk to us</h1>" in page  # the landing page, not a bare error


def test_the_form_shown_again_focuses_the_first_input_at_fault(client, form):
    response = client.post("/f/contact", {"name": "Ada Lovelace", "email": "ada@localhost"}, **HTML)

    page = response.content.decode()
    assert response.status_code == 400
    email = page[page.index('<input name="email"') :]
    assert email[: email.index(">")].endswith(' aria-describedby="lb-email-error" autofocus')
    assert page.count(" autofocus") == 1


def test_an_error_about_no_visible_input_takes_the_focus(client, form):
    response = client.post("/f/contact", {**ADA, "utm_source": "<script>x</script>"}, **HTML)

    assert response.status_code == 400
    assert '<p class="lb-alert" role="alert" tabindex="-1" autofocus>' in response.content.decode()


def test_a_post_made_again_after_an_error_keeps_the_first_posts_page_referrer_and_tags(client, form):
    landing = client.get("/p/contact?utm_source=newsletter").content.decode()
    assert 'name="lb_referrer" value=""' in landing  # a visitor who typed the address
    first = {
        "name": "Ada Lovelace",
        "email": "",
        "lb_page": "http://testserver/p/contact?utm_source=newsletter",
        "lb_referrer": "",
        "utm_campaign": "spring",
    }

    again = client.post("/f/contact", first, HTTP_REFERER="http://testserver/p/contact", **HTML)

    page = again.content.decode()
    assert again.status_code == 400
    assert 'name="lb_page" value="http://testserver/p/contact?utm_source=newsletter"' in page
    assert 'name="lb_referrer" value=""' in page  # not our own page, which sent the post
    assert '<input type="hidden" name="utm_campaign" value="spring">' in page


def test_a_plain_html_form_shown_again_keeps_the_page_it_was_posted_from(client, form):
    page = client.post(
        "/f/contact",
        {"name": "Ada Lovelace", "email": ""},
        HTTP_REFERER="https://www.example.com/",
        **HTML,
    ).content.decode()

    assert 'name="lb_page" value="https://www.example.com/"' in page


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("put", "/f/contact", "GET, HEAD, POST, OPTIONS"),
        ("delete", "/f/contact.json", "GET, HEAD, OPTIONS"),
        ("post", "/f/contact/embed.js", "GET, HEAD"),
        ("patch", "/c/any-token", "GET, POST"),
    ],
)
def test_another_method_gets_a_405_that_says_which_ones_work(client, form, method, path, allowed):
    response = getattr(client, method)(path, "{}", content_type="application/json", HTTP_ACCEPT="application/json")

    assert response.status_code == 405 and response["Allow"] == allowed
    assert response.json()["code"] == "method_not_allowed"
    listed = ", ".join(allowed.split(", ")[:-1]) + " or " + allowed.split(", ")[-1]
    assert response.json()["error"] == f"{method.upper()} is not accepted here; use {listed}."
    assert not Submission.objects.exists()


@pytest.mark.parametrize("slug", ["nope", "draft"])
def test_an_unknown_or_unpublished_form_is_404(client, personas, slug):
    do_create_form(
        personas.workspace,
        {"name": "Draft", "fields": [{"key": "name"}, {"key": "email"}], "is_published": False},
        actor=None,
    )

    response = post_json(client, ADA, slug=slug)

    assert response.status_code == 404
    assert response.json()["code"] == "form_not_found"
    assert client.get(f"/f/{slug}/embed.js").status_code == 404
    assert client.get(f"/p/{slug}").status_code == 404
    assert not Submission.objects.exists()


def test_every_change_to_the_form_is_seen_by_the_next_post_even_one_that_bypasses_save(
    client, form
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    assert post_json(client, {**ADA, "consent_email_marketing": True}).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        post_json(client, {**ADA, "email": "ada2@example.org"})
    reads = [q["sql"] for q in queries if '"capture_form"' in q["sql"] and q["sql"].startswith("SELECT")]
    assert len(reads) == 1  # the rows, compared; the Form object of the first post is reused
    assert '"capture_form"."id"' not in reads[0]  # not the ORM's query that builds the object

    type(form).objects.filter(pk=form.pk).update(thank_you_message="Changed by update()")
    assert "Changed by update()" in post_json(client, {**ADA, "email": "ada3@example.org"}).json()["message"]
    type(form).objects.filter(pk=form.pk).update(is_published=False)
    assert post_json(client, {**ADA, "email": "ada4@example.org"}).status_code == 404
    form.workspace.__class__.objects.filter(pk=form.workspace_id).update(name="Renamed Ltd")
    type(form).objects.filter(pk=form.pk).update(is_published=True)
    from leadbase.capture.public import published_form

    assert published_form("contact").workspace.name == "Renamed Ltd"


def test_a_post_from_an_origin_not_allowed_is_403_json(client, form):
    response = post_json(client, ADA, HTTP_ORIGIN="https://evil.example")

    assert response.status_code == 403
    assert response.json()["code"] == "origin_not_allowed"
    assert "https://evil.example" in response.json()["error"]
    assert "Access-Control-Allow-Origin" not in response
    assert not Submission.objects.exists()


def test_a_plain_form_on_a_no_referrer_page_is_refused_with_the_fix_until_the_form_allows_null(client, form):
    # A browser posting a plain HTML form from a page with Referrer-Policy: no-referrer sends
    # Origin: null instead of the page's address.
    html = {"HTTP_ORIGIN": "null", "HTTP_ACCEPT": "text/html"}
    refused = client.post("/f/contact", {**ADA, "consent_email_marketing": "on"}, **html)

    # A page for the visitor (their browser navigated here), telling the site's owner the fix.
    assert refused.status_code == 403 and refused["Content-Type"].startswith("text/html")
    page = refused.content.decode()
    assert "Referrer-Policy" in page and "add null" in page
    assert not Submission.objects.exists()
    other = client.post("/f/contact", {**ADA, "consent_email_marketing": "on"},
                        HTTP_ORIGIN="https://evil.example", HTTP_ACCEPT="text/html")
    assert other.status_code == 403 and "your message was not sent" in other.content.decode()
    assert "add https://evil.example to the form&#x27;s allowed origins" in other.content.decode()

    definition = {
        f: getattr(form, f)
        for f in ("name", "slug", "fields", "consents", "hidden_fields", "tags", "double_opt_in")
    }
    form = do_update_form(form, {**definition, "allowed_origins": [" NULL ", "https://www.example.com"]}, actor=None)
    assert form.allowed_origins == ["https://www.example.com", "null"]
    accepted = client.post("/f/contact", {**ADA, "consent_email_marketing": "on"}, **html)

    assert accepted.status_code == 200
    assert Submission.objects.get().status == "processed"
    assert post_json(client, ADA, HTTP_ORIGIN="https://evil.example").status_code == 403  # still only those


def test_an_allowed_origin_gets_its_cors_headers_and_the_preflight(client, form):
    form.allowed_origins = ["https://www.example.com"]
    form.save()

    preflight = client.options(
        "/f/contact",
        HTTP_ORIGIN="https://www.example.com",
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
    )
    response = post_json(client, ADA, HTTP_ORIGIN="https://www.example.com")

    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "POST" in preflight["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Credentials" not in preflight
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://www.example.com"
    assert "Set-Cookie" not in response
    assert client.options("/f/contact", HTTP_ORIGIN="https://evil.example").status_code == 403


def test_an_origin_typed_with_its_default_port_or_a_unicode_host_matches_what_browsers_send(
    client, form
):
    # Browsers send no default port and the host in Punycode: the builder stores that form.
    typed = ["https://shop.example.com:443", "https://bücher.example", "http://localhost:80"]
    definition = {
        f: getattr(form, f)
        for f in ("name", "slug", "fields", "consents", "hidden_fields", "tags", "double_opt_in")
    }
    form = do_update_form(form, {**definition, "allowed_origins": typed}, actor=None)

    assert form.allowed_origins == [
        "http://localhost",
        "https://shop.example.com",
        "https://xn--bcher-kva.example",
    ]
    assert post_json(client, ADA, HTTP_ORIGIN="https://shop.example.com").status_code == 200
    assert post_json(client, ADA, HTTP_ORIGIN="https://xn--bcher-kva.example").status_code == 200
    with pytest.raises(FormConfigError) as caught:
        do_update_form(form, {**definition, "allowed_origins": ["https://x.example:99999"]}, actor=None)
    assert caught.value.code == "invalid_origin"


def test_an_ipv6_origin_is_kept_in_brackets_as_browsers_send_it(client, form):
    definition = {
        f: getattr(form, f)
        for f in ("name", "slug", "fields", "consents", "hidden_fields", "tags", "double_opt_in")
    }
    typed = ["http://[::1]:8080", "https://[2001:DB8::1]:443"]
    form = do_update_form(form, {**definition, "allowed_origins": typed}, actor=None)

    assert form.allowed_origins == ["http://[::1]:8080", "https://[2001:db8::1]"]
    response = post_json(client, ADA, HTTP_ORIGIN="http://[::1]:8080")
    assert (response.status_code, response["Access-Control-Allow-Origin"]) == (200, "http://[::1]:8080")


def test_this_sites_own_pages_may_always_post(client, form):
    assert post_json(client, ADA, HTTP_ORIGIN="http://testserver").status_code == 200


# --- failures and replay --------------------------------------------------------------------


def _fail_lead_work(monkeypatch):
    """Lead work fails (taken with others or on its own) until the returned function is called."""
    failing = [True]
    real = actions.do_create_leads

    def flaky(*args, **kwargs):
        if failing[0]:
            raise RuntimeError("disk on fire")
        return real(*args, **kwargs)

    monkeypatch.setattr(actions, "do_create_leads", flaky)
    return lambda: failing.__setitem__(0, False)


@pytest.mark.parametrize(
    "typed, code",
    [({"email": "a@b", "phone": "+44 20 7946 0958"}, "invalid_email"),
     ({"email": "ada@example.org", "phone": "12"}, "invalid_phone")],
)
def test_a_typo_in_the_email_or_phone_is_refused_at_its_field_though_the_other_is_valid(client, form, typed, code):
    # Kept by the valid one, the lead's double opt-in could never complete ("a@b" gets no
    # email) while the visitor read "check your inbox".
    response = post_json(client, {**ADA, **typed})

    assert response.status_code == 400
    field = code.removeprefix("invalid_")
    assert (response.json()["code"], response.json()["field"]) == (code, field)
    assert typed[field] in response.json()["error"]
    assert Submission.objects.get().status == "rejected" and not Lead.objects.exists()
