"""The form builder as a marketer uses it in Chromium: the browser posts every input of the
page, the empty extra rows included, which hand-made test posts leave out."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from leadbase.capture.models import Form
from leadbase.leads.models import Lead
from tests.browser.test_lead_store import log_in
from tests.factories import make_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _no_fill_time(settings):
    settings.FORM_MIN_FILL_SECONDS = 0


def test_a_marketer_builds_a_form_in_the_builder_and_a_visitor_submits_it(browser_page, live_server):
    personas = make_personas()
    page = browser_page
    log_in(page, live_server, personas.marketer.email)

    page.goto(f"{live_server.url}/capture/forms/new")
    page.get_by_label("Name", exact=True).fill("Webinar signup")
    page.get_by_label("Key, field 4").fill("seats")  # the first empty row, after the defaults
    page.get_by_label("Label, field 4").fill("Seats")
    page.get_by_label("Type, field 4").select_option("select")
    page.get_by_label("Options, field 4").fill("1, 2, 3 or more")
    page.get_by_label("Published").check()
    page.get_by_label("Double opt-in", exact=False).uncheck()
    page.get_by_role("button", name="Save form").click()

    page.wait_for_url(re.compile(r".*/capture/forms/\d+/$"))
    expect(page.locator("#embed-snippet")).to_be_visible()
    form = Form.objects.get(name="Webinar signup")
    assert [f["key"] for f in form.fields] == ["name", "email", "phone", "seats"]
    assert form.fields[3]["options"] == ["1", "2", "3 or more"] and form.is_published
    assert [c["purpose"] for c in form.consents] == ["email_marketing"]

    # Saved again untouched, the definition stays as it is.
    page.get_by_role("button", name="Save form").click()
    expect(page.locator("#embed-snippet")).to_be_visible()
    again = Form.objects.get(pk=form.pk)
    assert (again.fields, again.consents) == (form.fields, form.consents)

    visitor = page.context.browser.new_context().new_page()
    visitor.goto(f"{live_server.url}/f/{form.slug}")
    visitor.get_by_label("Name", exact=True).fill("Ada Lovelace")
    visitor.get_by_label("Email", exact=True).fill("ada@example.org")
    visitor.get_by_label("Seats").select_option("2")
    visitor.get_by_role("checkbox").check()
    visitor.get_by_role("button", name="Send").click()

    expect(visitor.get_by_role("heading", name="Thank you")).to_be_visible()
    lead = Lead.objects.get(email_key="ada@example.org")
    assert lead.custom == {"seats": "2"}
    visitor.context.close()


def test_add_a_field_gives_the_builder_as_many_rows_as_the_form_needs(browser_page, live_server):
    # Two empty rows were all there was: a third and fourth custom field meant saving the form
    # (live already) and coming back.
    personas = make_personas()
    page = browser_page
    log_in(page, live_server, personas.marketer.email)

    page.goto(f"{live_server.url}/capture/forms/new")
    page.get_by_label("Name", exact=True).fill("Event signup")
    for _ in range(2):
        page.get_by_role("button", name="Add a field").click()
    expect(page.get_by_label("Key, field 7")).to_be_focused()  # the new row, ready to type in
    for number, key in ((4, "company"), (5, "seats"), (6, "diet"), (7, "arrival")):
        page.get_by_label(f"Key, field {number}").fill(key)
    page.get_by_role("button", name="Save form").click()

    page.wait_for_url(re.compile(r".*/capture/forms/\d+/$"))
    form = Form.objects.get(name="Event signup")
    assert [f["key"] for f in form.fields] == ["name", "email", "phone", "company", "seats", "diet", "arrival"]
