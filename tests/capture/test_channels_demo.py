"""The demo channels: four accounts with 12 weeks of history, links and clicks; idempotent."""

from __future__ import annotations

import pytest

from leadbase.capture.channels_demo import WEEKS, load_demo_channels
from leadbase.capture.models import (
    Channel,
    FollowerSnapshot,
    Form,
    LandingPage,
    LinkClick,
    TrackedLink,
)
from leadbase.reports.queries import owned_vs_rented, sources_by_channel

pytestmark = pytest.mark.django_db


def test_it_loads_four_channels_with_history_links_and_clicks(personas):
    demo = load_demo_channels(personas.workspace, personas.owner)
    assert sorted(demo.channels) == ["facebook", "instagram", "x", "youtube"]
    assert FollowerSnapshot.objects.filter(channel=demo.channels["instagram"]).count() == WEEKS + 1
    assert TrackedLink.objects.count() == 8
    assert all(row.clicks > 0 for row in sources_by_channel(personas.workspace, None))
    followers = owned_vs_rented(personas.workspace, WEEKS)[0].followers
    assert followers[0] < followers[-1]


def test_running_it_twice_changes_nothing(personas):
    load_demo_channels(personas.workspace, personas.owner)
    before = (
        Channel.objects.count(),
        FollowerSnapshot.objects.count(),
        TrackedLink.objects.count(),
        LinkClick.objects.count(),
    )
    load_demo_channels(personas.workspace, personas.owner)
    assert (
        Channel.objects.count(),
        FollowerSnapshot.objects.count(),
        TrackedLink.objects.count(),
        LinkClick.objects.count(),
    ) == before


def test_links_lead_to_the_contact_page_when_there_is_one(personas):
    form = Form.objects.create(workspace=personas.workspace, slug="contact", name="Contact")
    page = LandingPage.objects.create(
        workspace=personas.workspace, slug="contact", form=form, headline="Hi"
    )
    demo = load_demo_channels(personas.workspace, personas.owner)
    assert {link.page for link in demo.links["youtube"]} == {page}


def test_without_a_contact_page_links_lead_to_a_web_address(personas):
    demo = load_demo_channels(personas.workspace, personas.owner)
    assert all(link.target_url and link.page is None for link in demo.links["x"])
