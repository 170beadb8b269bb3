"""Report pages and CSV downloads: every persona, neutralized cells, charts, constant query
counts."""

from __future__ import annotations

import csv
import io
import re
from xml.etree import ElementTree

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from leadbase.capture.channels import (
    LinkSpec,
    do_create_channel,
    do_create_link,
    do_record_snapshot,
    do_remove_channel,
)
from leadbase.capture.models import LinkClick
from tests.reports.builders import ago, consent, journal, lead_with

pytestmark = pytest.mark.django_db

REPORTS = [
    "/reports/sources",
    "/reports/sources.csv",
    "/reports/owned-vs-rented",
    "/reports/owned-vs-rented.csv",
]
PAGES = ["/reports/", *REPORTS]
SVG = "{http://www.w3.org/2000/svg}"


def rows_of(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode())))


def charts_in(page: str) -> list[ElementTree.Element]:
    """Every chart of the page, parsed."""
    return [
        ElementTree.fromstring(svg)
        for svg in re.findall(r'<svg[^>]* role="img".*?</svg>', page, re.DOTALL)
    ]


@pytest.fixture
def channel(personas):
    return do_create_channel(
        personas.workspace, platform="instagram", handle='=HYPERLINK("http://x")', actor=None
    )


@pytest.mark.parametrize("persona", ["owner", "marketer", "sales", "viewer"])
@pytest.mark.parametrize("path", REPORTS)
def test_every_member_reads_every_report(client_as, channel, persona, path):
    response = client_as(persona).get(path)
    assert response.status_code == 200
    assert b"HYPERLINK" in response.content


@pytest.mark.parametrize("persona", ["owner", "marketer", "sales", "viewer", "outsider"])
def test_every_member_opens_the_list_of_reports(client_as, persona):
    page = client_as(persona).get("/reports/").content.decode()
    assert "/reports/sources" in page and "/reports/owned-vs-rented" in page


@pytest.mark.parametrize("path", REPORTS)
def test_an_outsider_sees_only_their_own_workspace(client_as, channel, path):
    response = client_as("outsider").get(path)
    assert response.status_code == 200
    assert b"HYPERLINK" not in response.content


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_visitor_is_sent_to_log_in(client_as, path):
    response = client_as("anonymous").get(path)
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_the_sources_csv_neutralizes_formulas_and_keeps_the_numbers(
    client_as, channel, contact_page
):
    link = do_create_link(
        channel.workspace,
        LinkSpec(channel=channel, page=contact_page, utm_campaign="-1+1"),
        code="post",
        actor=None,
    )
    LinkClick.objects.create(link=link, at=ago(1))
    journal(
        contact_page.form, outcome="created", link_code="post", lead=lead_with(channel.workspace)
    )
    response = client_as("viewer").get("/reports/sources.csv?period=7")
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="sources-7-' in response["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0] == [
        "table",
        "name",
        "detail",
        "clicks",
        "submissions",
        "spam",
        "new_leads",
        "merged",
        "conversion_pct",
    ]
    assert [
        "channel",
        "Instagram",
        '\'=HYPERLINK("http://x")',
        "1",
        "1",
        "0",
        "1",
        "0",
        "100.0",
    ] in rows
    assert ["campaign", "instagram", "'-1+1", "1", "0", "0", "0", "0", "0.0"] in rows


def test_the_owned_csv_has_one_line_per_channel_and_week(client_as, channel):
    do_record_snapshot(channel, day=ago(0).date(), followers=2000, actor=None)
    lead = lead_with(channel.workspace, utm_source="instagram")
    consent(lead, "email_marketing")
    rows = rows_of(client_as("viewer").get("/reports/owned-vs-rented.csv?weeks=12"))
    assert rows[0] == [
        "channel",
        "platform",
        "handle",
        "week",
        "followers",
        "owned_leads",
        "leads_per_1000_followers",
    ]
    assert len(rows) == 1 + 12
    assert rows[-1][0] == 'Instagram @=HYPERLINK("http://x")'
    assert rows[-1][2] == '\'=HYPERLINK("http://x")'
    assert rows[-1][4:] == ["2000", "1", "0.50"]


def test_the_owned_page_draws_a_chart_per_channel(client_as, channel):
    page = client_as("viewer").get("/reports/owned-vs-rented?weeks=26").content.decode()
    assert page.count('role="img"') == 1
    assert "Last 26 weeks" in page and "No data yet" not in page


def test_the_sources_page_shows_the_period_and_every_table(client_as, channel):
    page = client_as("viewer").get("/reports/sources?period=90").content.decode()
    assert "Last 90 days" in page
    assert all(title in page for title in ("By channel", "By lead source", "By UTM campaign"))


def test_the_sources_page_charts_each_channel_over_the_chosen_period(
    client_as, channel, contact_page
):
    link = do_create_link(
        channel.workspace, LinkSpec(channel=channel, page=contact_page), code="post", actor=None
    )
    LinkClick.objects.bulk_create(
        [LinkClick(link=link, at=ago(days)) for days in (1, 1, 1, 20, 20)]
    )
    journal(
        contact_page.form, outcome="created", link_code="post", lead=lead_with(channel.workspace)
    )
    journal(contact_page.form, status="spam", link_code="post")
    journal(contact_page.form, outcome="merged", link_code="post", days_ago=20)
    name = 'Instagram @=HYPERLINK("http://x")'
    for period, label, figures in [
        ("7", "Last 7 days", "clicks 3, submissions 1, new leads 1"),
        ("30", "Last 30 days", "clicks 5, submissions 2, new leads 1"),
    ]:
        page = client_as("viewer").get(f"/reports/sources?period={period}").content.decode()
        [chart] = charts_in(page)
        assert chart.find(f"{SVG}title").text == (
            f"Clicks, submissions and new leads per channel, {label.lower()}"
        )
        assert chart.find(f"{SVG}desc").text == (
            f"{label}, per channel, in the order of the table. {name}: {figures}."
        )
        tooltips = {t.text for t in chart.iter(f"{SVG}title")}
        assert {f"{name}: {figure}" for figure in figures.split(", ")} <= tooltips
    # The chart is drawn above the table it charts, in the same section.
    assert page.index("By channel") < page.index("<svg") < page.index("<table")


def test_a_channel_named_like_markup_is_charted_as_text(client_as, personas):
    do_create_channel(personas.workspace, platform="x", handle="<script>alert(1)", actor=None)
    page = client_as("viewer").get("/reports/sources").content.decode()
    assert "<script>alert(1)" not in page
    [chart] = charts_in(page)
    assert "X @<script>alert(1): clicks 0" in chart.find(f"{SVG}desc").text


def test_the_sources_chart_says_when_the_period_has_nothing_to_chart(client_as, channel):
    page = client_as("viewer").get("/reports/sources?period=7").content.decode()
    [chart] = charts_in(page)
    texts = [t.text for t in chart.iter(f"{SVG}text")]
    assert texts == ["No clicks, submissions or new leads in this period"]


def test_the_sources_page_without_channels_has_no_chart(client_as, personas):
    page = client_as("viewer").get("/reports/sources").content.decode()
    assert charts_in(page) == [] and "No channels yet." in page


def test_with_every_channel_archived_the_reports_say_so_not_that_there_are_none(client_as, personas):
    channel = do_create_channel(personas.workspace, platform="x", handle="acme", actor=None)
    do_record_snapshot(channel, day=ago(30).date(), followers=100, actor=None)
    assert do_remove_channel(channel, actor=None) == "archived"
    client = client_as("viewer")

    for path in ("/reports/sources?period=7", "/reports/owned-vs-rented"):
        page = client.get(path).content.decode()
        assert "Your channels are archived" in page and "No channels yet." not in page, path
        assert "/capture/channels/?archived=1" in page, path


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def add_channel_with_traffic(workspace, contact_page, n: int) -> None:
    channel = do_create_channel(workspace, platform="x", handle=f"acme{n}", actor=None)
    do_record_snapshot(channel, day=ago(7 * n).date(), followers=100 * n, actor=None)
    link = do_create_link(
        workspace,
        LinkSpec(channel=channel, page=contact_page, utm_campaign=f"c{n}"),
        code=f"post-{n}",
        actor=None,
    )
    LinkClick.objects.bulk_create([LinkClick(link=link, at=ago(n)) for _ in range(n)])
    lead = lead_with(
        workspace, source="form", source_ref=f"form-{n}", utm_source="x", utm_campaign=f"c{n}"
    )
    consent(lead, "email_marketing")
    journal(
        contact_page.form,
        outcome="created",
        link_code=f"post-{n}",
        lead=lead,
        utm={"utm_campaign": f"c{n}"},
    )


@pytest.mark.parametrize(
    "path",
    [
        "/reports/sources?period=all",
        "/reports/owned-vs-rented?weeks=all",
        "/reports/sources.csv",
        "/reports/owned-vs-rented.csv",
    ],
)
def test_a_report_costs_the_same_queries_with_more_rows(client_as, personas, contact_page, path):
    client = client_as("viewer")
    add_channel_with_traffic(personas.workspace, contact_page, 1)
    few = queries_for(client, path)
    for n in range(2, 7):
        add_channel_with_traffic(personas.workspace, contact_page, n)
    assert queries_for(client, path) == few
