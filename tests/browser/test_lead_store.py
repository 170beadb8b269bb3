"""The lead store as a marketer clicks through it in Chromium: log in, import a CSV through the
page, find a lead, open it, and merge a possible duplicate."""

from __future__ import annotations

import re

import pytest

from leadbase.leads.models import Lead, PossibleDuplicate
from tests.factories import PASSWORD, make_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CSV = """Full Name;E-mail;Mobile;Organization;Country
John Smith;john@smith-tools.com;030 901820;Smith Tools;Germany
Jon Smith;jsmith@smith-tools.com;;Smith Tools;Germany
Grace Hopper;grace@navy.mil;(202) 555-0143;US Navy;United States
N/A;nobody@example.org;;;
"""


def log_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/login")
    page.fill("#id_username", email)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))


def test_a_marketer_imports_a_csv_finds_a_lead_and_merges_its_duplicate(browser_page, live_server, tmp_path):
    personas = make_personas()
    page = browser_page
    log_in(page, live_server, personas.marketer.email)

    path = tmp_path / "fair.csv"
    path.write_text(CSV, encoding="cp1252")
    page.goto(f"{live_server.url}/imports/new")
    page.set_input_files("input[type=file]", str(path))
    page.click("text=Upload and check columns")
    page.wait_for_url(re.compile(r".*/imports/\d+/mapping$"))
    assert page.locator("table").first.inner_text().count("Smith Tools") == 2  # the preview
    page.click("main button:has-text('Import')")
    page.wait_for_selector("text=Import finished")
    counts = page.locator("#import-progress dl").inner_text()
    assert re.search(r"New leads\s+3", counts) and re.search(r"Refused\s+1", counts)

    page.goto(f"{live_server.url}/leads/")
    page.fill("#id_q", "grace")
    page.wait_for_function("() => !document.querySelector('#lead-table').innerText.includes('Smith')")
    page.click("#lead-table >> text=Grace Hopper")
    page.wait_for_selector("h1:has-text('Grace Hopper')")
    assert "+12025550143" in page.content()

    john = Lead.objects.get(email_key="john@smith-tools.com")
    assert PossibleDuplicate.objects.filter(status="open").count() == 1
    page.goto(f"{live_server.url}/leads/{john.pk}/")
    page.click("text=Merge into this lead")
    page.wait_for_load_state()
    assert Lead.objects.filter(family_key="smith").count() == 1
    john.refresh_from_db()
    assert john.alternates["email"] == ["jsmith@smith-tools.com"]
    assert "Merged" in page.locator("body").inner_text()
