"""A channel's follower history in Chromium: the count form is sent by htmx, whose answer replaces
the history section, errors included."""

from __future__ import annotations

import pytest

from tests.browser.test_lead_store import log_in
from tests.factories import make_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_follower_count_typed_wrong_shows_its_error_and_a_good_one_is_recorded(browser_page, live_server):
    from leadbase.capture.channels import do_create_channel
    from leadbase.capture.models import FollowerSnapshot

    personas = make_personas()
    channel = do_create_channel(personas.workspace, platform="x", handle="acme", actor=None)
    page = browser_page
    log_in(page, live_server, personas.owner.email)
    page.goto(f"{live_server.url}/capture/channels/{channel.pk}/")
    count_form = page.locator("#history form.filters")  # the form to type a count in

    count_form.get_by_label("Date").fill("2025-03-03")
    count_form.get_by_label("Followers").fill("12.5k")
    with page.expect_response(lambda r: r.url.endswith("/followers") and r.request.method == "POST") as answer:
        count_form.get_by_role("button", name="Record the count").click()
    assert answer.value.status == 400
    error = page.get_by_role("alert")
    error.wait_for()
    assert "is not a whole number of followers" in error.inner_text()
    assert FollowerSnapshot.objects.count() == 0

    count_form.get_by_label("Followers").fill("12500")  # the section was replaced: found again
    count_form.get_by_role("button", name="Record the count").click()
    page.get_by_role("status").filter(has_text="Recorded").wait_for()
    assert page.get_by_role("status").filter(has_text="Recorded").inner_text() == (
        "Recorded 12,500 followers for Mar 3, 2025."
    )
    assert page.get_by_role("alert").count() == 0
    assert page.locator("#history table").inner_text().count("12,500") == 1
    assert FollowerSnapshot.objects.get().followers == 12500
