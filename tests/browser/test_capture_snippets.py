"""The builder's snippets at work on another origin, in a real browser: the plain HTML form
brings the page's address and UTM tags (which the browser's Referer leaves out), and the embed
script ties each field error to its input as the server-rendered form does."""

from __future__ import annotations

import pytest
from django.test import Client
from playwright.sync_api import expect

from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.models import Lead
from tests.browser.test_capture_forms import (  # noqa: F401  (fixtures)
    _capture_settings,
    embedding_page,
    fill_embedded,
    second_origin,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def allowed_form(personas, second_origin):  # noqa: F811 (the imported fixture)
    form = load_demo_forms(personas.workspace, personas.owner)
    form.allowed_origins = [second_origin["origin"]]
    form.save()
    return form


def plain_snippet(personas, form) -> str:
    client = Client()
    client.force_login(personas.marketer)
    return client.get(f"/capture/forms/{form.pk}/").context["html_snippet"]


def test_the_plain_html_form_on_another_origin_brings_its_page_and_utm_tags(
    browser_page, personas, allowed_form, second_origin  # noqa: F811
):
    second_origin["html"] = (
        "<!doctype html><html><head><title>Partner site</title></head><body>"
        f"{plain_snippet(personas, allowed_form)}</body></html>"
    )
    address = second_origin["origin"] + "/offer?utm_source=newsletter&utm_campaign=spring"

    browser_page.goto(address)
    browser_page.locator("input[name=name]").fill("Plain Pat")
    browser_page.locator("input[name=email]").fill("pat@example.org")
    browser_page.get_by_role("button", name="Send").click()

    expect(browser_page.get_by_role("heading", name="Thank you")).to_be_visible()
    row = Submission.objects.get()
    assert (row.status, row.page_url) == ("processed", address)
    assert row.utm == {"utm_source": "newsletter", "utm_campaign": "spring"}
    lead = Lead.objects.get()
    assert (lead.utm_source, lead.utm_campaign) == ("newsletter", "spring")


def expect_error(page, name: str, message: str):
    """The input ``name`` of the embedded form, once it is marked invalid and described by an
    element that shows ``message``."""
    field = page.locator(f".lb-embed input[name={name}]")
    expect(field).to_have_attribute("aria-invalid", "true")
    described = field.get_attribute("aria-describedby")
    expect(page.locator(f"[id='{described}']")).to_have_text(message)
    return field


def test_the_embed_script_ties_each_field_error_to_its_input(
    browser_page, live_server, allowed_form, second_origin  # noqa: F811
):
    second_origin["html"] = embedding_page(live_server, "contact")
    page = browser_page
    page.goto(second_origin["origin"] + "/")

    page.locator(".lb-embed input[name=phone]").fill("<script>x</script>")
    fill_embedded(page)

    phone = expect_error(page, "phone", "Script tags are not allowed here.")
    expect(phone).to_be_focused()

    phone.fill("+44 20 7946 0018")
    page.locator(".lb-embed input[name=name]").fill("<script>y</script>")
    page.locator(".lb-embed button[type=submit]").click()

    expect_error(page, "name", "Script tags are not allowed here.")
    expect(phone).not_to_have_attribute("aria-invalid", "true")
    assert phone.get_attribute("aria-describedby") is None
    assert page.locator(".lb-embed .lb-error:not([role])").count() == 1
    assert not Lead.objects.exists()
