"""Capture in a real browser: a tracked link to the landing page, the confirmation email at a
real SMTP server, the confirm button; the embed script on a second origin, allowed or not; a
proof-of-work form solved by the page's own script."""

from __future__ import annotations

import email
import re
import threading
from collections.abc import Iterator
from email import policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client
from playwright.sync_api import expect

from leadbase.capture.actions import do_create_form
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission, TrackedLink
from leadbase.leads.models import Consent, Lead
from tests.capture.test_optin import smtp_inbox  # noqa: F401  (an aiosmtpd server on 127.0.0.1)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _capture_settings(settings, live_server):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend", "QUEUES": ["default", "imports"]}}
    settings.BASE_URL = live_server.url
    settings.FORM_MIN_FILL_SECONDS = (
        1  # the browser waits it out below: the token round-trips for real
    )


@pytest.fixture
def second_origin() -> Iterator[dict]:
    """A tiny web server on another port of 127.0.0.1 (another origin) serving ``site["html"]``."""
    site = {"html": ""}

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's hook name)
            body = site["html"].encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    site["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    yield site
    server.shutdown()
    server.server_close()


def confirmation_link(raw: bytes) -> str:
    message = email.message_from_bytes(raw, policy=policy.default)
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://\S+/c/\S+", text).group(0)


def test_a_visitor_from_a_tracked_link_submits_confirms_by_email_and_becomes_a_consented_lead(
    browser_page,
    live_server,
    personas,
    second_origin,
    smtp_inbox,  # noqa: F811 (the imported fixture)
):
    form = load_demo_forms(personas.workspace, personas.owner)
    TrackedLink.objects.create(
        workspace=personas.workspace,
        code="ig-spring",
        page=form.pages.get(),
        utm_source="instagram",
        utm_medium="social",
        utm_campaign="spring",
    )
    page = browser_page
    # The post on a social network, another site: the visitor clicks its tracked link.
    second_origin["html"] = f'<!doctype html><title>Post</title><a href="{live_server.url}/r/ig-spring">Talk to us</a>'
    page.goto(second_origin["origin"] + "/post")
    page.get_by_role("link", name="Talk to us").click()

    expect(page.get_by_role("heading", name="Talk to us")).to_be_visible()
    page.get_by_label("Your name").fill("Ada Lovelace")
    page.get_by_label("Email", exact=True).fill("ada@example.org")
    page.get_by_label("Phone").fill("+44 20 7946 0018")
    page.get_by_label("Yes, email me product news").check()
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible()
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_campaign) == ("instagram", "spring")
    assert Submission.objects.get().link_code == "ig-spring"
    # Through the redirect, the referrer is the page the link was on (its origin, as browsers
    # send it to another site), on the journal row and the lead.
    assert Submission.objects.get().referrer == lead.referrer == second_origin["origin"] + "/"
    assert smtp_inbox.arrived.wait(5)
    _, recipient, raw = smtp_inbox.messages[0]
    assert recipient == "ada@example.org"

    page.goto(confirmation_link(raw))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    assert Consent.objects.get(lead=lead).status == "pending"
    page.get_by_role("button", name="Yes, confirm").click()
    expect(page.get_by_role("heading", name="Confirmed")).to_be_visible()
    assert Consent.objects.get(lead=lead).status == "granted"

    owner = Client()
    owner.force_login(personas.owner)
    page.context.add_cookies(
        [{"name": "sessionid", "value": owner.cookies["sessionid"].value, "url": live_server.url}]
    )
    page.goto(f"{live_server.url}/leads/{lead.pk}/")
    expect(page.locator("ul.consents")).to_contain_text("Granted")
    expect(page.locator("body")).to_contain_text("instagram")


def embedding_page(live_server, slug: str) -> str:
    return (
        f"<!doctype html><html><head><title>Partner site</title></head><body><h1>Partner site</h1>"
        f'<script src="{live_server.url}/f/{slug}/embed.js"></script></body></html>'
    )


def embedded_contact_form(live_server, personas, second_origin):
    """The demo form, allowed on the second origin, whose page embeds it."""
    form = load_demo_forms(personas.workspace, personas.owner)
    form.allowed_origins = [second_origin["origin"]]
    form.save()
    second_origin["html"] = embedding_page(live_server, "contact")
    return form


def fill_embedded(page) -> None:
    page.locator(".lb-embed input[name=name]").fill("Grace Hopper")
    page.locator(".lb-embed input[name=email]").fill("grace@example.org")
    page.locator(".lb-embed input[name=consent_email_marketing]").check()
    page.wait_for_timeout(1100)
    page.locator(".lb-embed button[type=submit]").click()


def test_the_embed_script_on_an_allowed_second_origin_submits(
    browser_page, live_server, personas, second_origin
):
    form = embedded_contact_form(live_server, personas, second_origin)

    browser_page.goto(second_origin["origin"] + "/")
    fill_embedded(browser_page)

    expect(browser_page.locator(".lb-thanks p").first).to_have_text(form.thank_you_message)
    expect(browser_page.locator(".lb-thanks .lb-note")).to_contain_text("Check your inbox at grace@example.org")
    row = Submission.objects.get()
    assert row.status == "processed" and row.page_url == second_origin["origin"] + "/"
    assert Lead.objects.get().email_key == "grace@example.org"
    assert browser_page.context.cookies(live_server.url) == []


def test_the_embed_script_marks_every_field_at_fault_and_focuses_the_first(
    browser_page, live_server, personas, second_origin
):
    embedded_contact_form(live_server, personas, second_origin)
    page = browser_page
    page.goto(second_origin["origin"] + "/")

    # Both pass the browser's own checks; the lead rules refuse both.
    page.locator(".lb-embed input[name=name]").fill("Grace Hopper")
    page.locator(".lb-embed input[name=email]").fill("grace@example")
    page.locator(".lb-embed input[name=phone]").fill("123")
    page.wait_for_timeout(1100)
    page.locator(".lb-embed button[type=submit]").click()

    email, phone = page.locator(".lb-embed input[name=email]"), page.locator(".lb-embed input[name=phone]")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".lb-embed .lb-field .lb-error")).to_have_count(2)
    expect(email).to_be_focused()
    assert Submission.objects.get().status == "rejected" and not Lead.objects.exists()


def test_the_embed_script_on_an_origin_not_allowed_is_refused(
    browser_page, live_server, personas, second_origin
):
    load_demo_forms(personas.workspace, personas.owner)
    second_origin["html"] = embedding_page(live_server, "contact")
    errors = []
    browser_page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    browser_page.goto(second_origin["origin"] + "/")

    # No form to fill in for nothing: the visitor is told, the site's developer told what to do.
    expect(browser_page.locator(".lb-embed [role=note]")).to_have_text("This form is not available on this site.")
    assert browser_page.locator(".lb-embed form").count() == 0
    assert any(f"Add {second_origin['origin']} to the form's allowed origins" in e for e in errors)
    # And a post made from that page anyway is refused by the browser (no CORS allowance).
    outcome = browser_page.evaluate(
        """url => fetch(url, {method: "POST", mode: "cors", headers: {"Content-Type": "application/json"},
                body: JSON.stringify({name: "Grace Hopper", email: "grace@example.org"})})
              .then(r => "answered " + r.status, e => "refused")""",
        f"{live_server.url}/f/contact",
    )
    assert outcome == "refused"
    assert not Submission.objects.exists()
    assert not Lead.objects.exists()


def test_a_proof_of_work_form_is_solved_by_the_browser_and_accepted(
    browser_page, live_server, personas
):
    do_create_form(
        personas.workspace,
        {"name": "Guarded", "fields": [{"key": "name"}, {"key": "email"}], "proof_of_work": True},
        actor=None,
    )
    page = browser_page

    page.goto(f"{live_server.url}/f/guarded")
    page.get_by_label("Name").fill("Alan Turing")
    page.get_by_label("Email").fill("alan@example.org")
    page.wait_for_timeout(1100)
    page.get_by_role("button", name="Send").click()

    expect(page.get_by_role("heading", name="Thank you")).to_be_visible(timeout=20_000)
    row = Submission.objects.get()
    assert (row.status, row.spam_reason) == ("processed", "")
