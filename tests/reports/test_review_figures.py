"""Figures that must read the same on the page and in the CSV, and an "All time" that stays
bounded whatever follower history was stored."""

from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link
from leadbase.capture.models import FollowerSnapshot, LinkClick
from leadbase.reports.queries import owned_vs_rented
from tests.reports.builders import ago, consent, journal, lead_with

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(personas):
    return do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_sources_csv_rounds_conversion_as_the_page_does(client_as, channel, contact_page):
    # 1 new lead from 16 clicks is 6.25 %: the page shows 6.3 %, and so must the CSV.
    link = do_create_link(
        channel.workspace, LinkSpec(channel=channel, page=contact_page), code="post", actor=None
    )
    LinkClick.objects.bulk_create([LinkClick(link=link, at=ago(1)) for _ in range(16)])
    journal(
        contact_page.form, outcome="created", link_code="post", lead=lead_with(channel.workspace)
    )
    page = client_as("viewer").get("/reports/sources?period=7").content.decode()
    assert "6.3%" in page
    rows = rows_of(client_as("viewer").get("/reports/sources.csv?period=7"))
    (channel_row,) = [row for row in rows if row[0] == "channel"]
    assert channel_row[-1] == "6.3"


def test_a_form_is_named_by_its_name_and_slug_in_the_lead_source_table(client_as, contact_page):
    journal(contact_page.form, outcome="created",
            lead=lead_with(contact_page.workspace, source="form", source_ref=contact_page.form.slug))
    name = contact_page.form.name

    page = client_as("viewer").get("/reports/sources?period=7").content.decode()
    rows = rows_of(client_as("viewer").get("/reports/sources.csv?period=7"))

    assert f"{name} ({contact_page.form.slug})" in page
    assert [row[2] for row in rows if row[0] == "source" and row[1] == "Form"] == [f"{name} ({contact_page.form.slug})"]


def test_the_owned_csv_rounds_the_ratio_as_the_page_does(client_as, channel):
    # 1 owned lead for 8,000 followers is 0.125 per 1,000: 0.13 on the page and in the CSV.
    FollowerSnapshot.objects.create(channel=channel, date=ago(0).date(), followers=8000)
    consent(lead_with(channel.workspace, utm_source="instagram"), "email_marketing")
    page = client_as("viewer").get("/reports/owned-vs-rented").content.decode()
    assert ">0.13<" in page
    rows = rows_of(client_as("viewer").get("/reports/owned-vs-rented.csv"))
    assert rows[-1][4:] == ["8000", "1", "0.13"]


def test_all_time_does_not_reach_back_to_a_count_with_a_mistyped_year(personas, channel):
    # Stored before such dates were refused. Year 1 made some 100,000 weekly rows and the page
    # never came back; 1990 is enough to show the report no longer starts there.
    FollowerSnapshot.objects.create(channel=channel, date=date(1990, 1, 1), followers=5)
    FollowerSnapshot.objects.create(channel=channel, date=date(2024, 1, 1), followers=900)
    (trend,) = owned_vs_rented(personas.workspace, None)
    assert trend.weeks[0] == date(1999, 12, 27)  # the Monday of the week of 2000-01-01
    assert trend.followers[0] == 5
    assert trend.followers_now == 900
