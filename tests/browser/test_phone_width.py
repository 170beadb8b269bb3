"""App pages in Chromium on a phone-sized screen: tables scroll inside their box, never the page."""

from __future__ import annotations

import pytest

from leadbase.hooks.actions import do_create_endpoint
from leadbase.hooks.models import Delivery, DeliveryStatus
from tests.browser.test_lead_store import log_in
from tests.factories import make_personas

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_endpoints_delivery_log_does_not_widen_the_page_at_360_px(browser_page, live_server):
    personas = make_personas()
    endpoint = do_create_endpoint(
        personas.workspace, "https://hooks.example.com/a", [], actor=personas.owner
    )
    # Written as a worker left it (no task queued: nothing is sent anywhere).
    Delivery.objects.create(
        endpoint=endpoint,
        event="lead.created",
        event_id="evt_0123456789abcdef0123456789abcdef",
        payload={"lead": {"id": 1}},
        status=DeliveryStatus.GAVE_UP,
        attempts=8,
        response_status=500,
        error="HTTP 500: <!DOCTYPE html> it broke",
    )
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page, live_server, personas.owner.email)

    page.goto(f"{live_server.url}/settings/webhooks/{endpoint.pk}/")

    assert page.get_by_role("button", name="Redeliver").count() == 1
    # The table scrolls in its own box; the page itself is never wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360


def test_a_channels_history_and_links_do_not_widen_the_page_at_360_px(browser_page, live_server):
    from datetime import date

    from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link, do_record_snapshot

    personas = make_personas()
    channel = do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)
    do_record_snapshot(channel, day=date(2025, 3, 3), followers=12840, actor=None)
    do_create_link(
        personas.workspace,
        LinkSpec(channel=channel, target_url="https://shop.example/a-rather-long-path/spring-offer",
                 label="Spring offer post", utm_campaign="spring-offer-2025"),
        actor=None,
    )
    page = browser_page
    page.set_viewport_size({"width": 360, "height": 800})
    log_in(page, live_server, personas.owner.email)

    page.goto(f"{live_server.url}/capture/channels/{channel.pk}/")

    assert page.get_by_text("Spring offer post").count() >= 1
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
