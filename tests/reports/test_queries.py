"""Report figures on small hand-made datasets: every count is asserted exactly."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link
from leadbase.capture.models import FollowerSnapshot, LinkClick
from leadbase.leads.actions import do_add_suppression
from leadbase.reports.queries import (
    SourceRow,
    owned_vs_rented,
    period_for,
    sources_by_campaign,
    sources_by_channel,
    sources_by_lead_source,
    sources_report,
    totals,
)
from tests.reports.builders import ago, consent, journal, lead_with

pytestmark = pytest.mark.django_db

COUNTS = ("clicks", "submissions", "spam", "new_leads", "merged")


def counts(row) -> tuple[int, ...]:
    return tuple(getattr(row, name) for name in COUNTS)


def click(link, days_ago: float = 1, times: int = 1) -> None:
    LinkClick.objects.bulk_create([LinkClick(link=link, at=ago(days_ago)) for _ in range(times)])


@pytest.fixture
def sources_data(personas, contact_page):
    """Instagram and Facebook with links to /p/contact, an Instagram bio link to a shop, their
    clicks, journal rows and leads; some of it older than 30 days, some in another workspace."""
    ws, form = personas.workspace, contact_page.form
    instagram = do_create_channel(ws, platform="instagram", handle="acme", actor=None)
    facebook = do_create_channel(ws, platform="facebook", handle="acmefb", actor=None)
    do_create_channel(ws, platform="youtube", handle="quiet", actor=None)
    ig_post = do_create_link(
        ws,
        LinkSpec(channel=instagram, page=contact_page, utm_campaign="spring"),
        code="ig-post",
        actor=None,
    )
    ig_bio = do_create_link(
        ws,
        LinkSpec(channel=instagram, target_url="https://shop.example/", utm_campaign="bio"),
        code="ig-bio",
        actor=None,
    )
    fb_post = do_create_link(
        ws,
        LinkSpec(channel=facebook, page=contact_page, utm_campaign="spring"),
        code="fb-post",
        actor=None,
    )
    click(ig_post, times=4)
    click(ig_post, days_ago=40)
    click(ig_bio, times=2)
    click(fb_post, times=3)

    ig_tags = {"utm_source": "instagram", "utm_medium": "social", "utm_campaign": "spring"}
    fb_tags = {"utm_source": "facebook", "utm_medium": "social", "utm_campaign": "spring"}
    known = lead_with(ws, days_ago=100)
    from_ig = lead_with(
        ws, source="form", source_ref="contact", utm_source="instagram", utm_campaign="spring"
    )
    from_fb = lead_with(
        ws,
        days_ago=2,
        source="form",
        source_ref="contact",
        utm_source="facebook",
        utm_campaign="spring",
    )
    untagged = lead_with(ws, source="form", source_ref="contact")
    lead_with(ws, days_ago=3, source="import", source_ref="fair.csv")
    lead_with(
        ws,
        days_ago=60,
        source="form",
        source_ref="contact",
        utm_source="instagram",
        utm_campaign="spring",
    )
    journal(form, outcome="created", link_code="ig-post", utm=ig_tags, lead=from_ig)
    journal(form, outcome="merged", link_code="ig-post", utm=ig_tags, lead=known)
    journal(form, status="spam", link_code="ig-post", utm=ig_tags)
    journal(form, outcome="created", link_code="fb-post", utm=fb_tags, lead=from_fb)
    journal(form, outcome="created", lead=untagged)
    journal(form, outcome="created", link_code="ig-post", utm=ig_tags, days_ago=40)
    journal(form, status="failed", link_code="ig-post", utm=ig_tags)
    lead_with(personas.other_workspace, utm_source="instagram", utm_campaign="spring")
    return personas.workspace


def test_sources_by_channel_counts_clicks_journal_rows_and_new_leads_through_its_links(
    sources_data,
):
    rows = sources_by_channel(sources_data, period_for("30").since)
    assert [(r.name, r.detail, counts(r)) for r in rows] == [
        ("Facebook", "acmefb", (3, 1, 0, 1, 0)),
        ("Instagram", "acme", (6, 2, 1, 1, 1)),
        ("YouTube", "quiet", (0, 0, 0, 0, 0)),
    ]
    # Instagram: 1 lead of the 4 clicks to the landing page; the bio link's 2 clicks to the
    # shop are clicks, but no lead can be seen to come of them.
    assert [round(r.conversion_pct, 1) if r.conversion_pct is not None else None for r in rows] == [
        33.3,
        25.0,
        None,
    ]


def test_sources_by_lead_source_joins_form_traffic_and_first_touch_leads(sources_data):
    rows = sources_by_lead_source(sources_data, period_for("30").since)
    assert [(r.name, r.detail, counts(r)) for r in rows] == [
        ("form", "contact", (7, 4, 1, 3, 1)),
        ("import", "fair.csv", (0, 0, 0, 1, 0)),
    ]
    # Conversion counts the leads made through a tracked link (ig-post, fb-post), not the form's
    # lead that came without one: 2 of 7 clicks, as the channel table's 1 of 3 and 1 of 6 add up.
    assert [r.converted for r in rows] == [2, 0]
    assert round(rows[0].conversion_pct, 1) == 28.6 and rows[1].conversion_pct is None
    assert round(totals(rows).conversion_pct, 1) == 28.6


def test_sources_by_campaign_groups_clicks_journal_rows_and_leads_by_their_tags(sources_data):
    rows = sources_by_campaign(sources_data, period_for("30").since)
    assert [(r.name, r.detail, counts(r)) for r in rows] == [
        ("", "", (0, 1, 0, 2, 0)),
        ("instagram", "spring", (4, 2, 1, 1, 1)),
        ("facebook", "spring", (3, 1, 0, 1, 0)),
        ("instagram", "bio", (2, 0, 0, 0, 0)),
    ]


def test_all_time_includes_the_older_rows(sources_data):
    rows = sources_by_channel(sources_data, period_for("all").since)
    assert counts(rows[1]) == (7, 3, 1, 2, 1)
    assert counts(totals(sources_by_lead_source(sources_data, None))) == (8, 5, 1, 6, 1)


def test_an_unknown_period_is_the_default_one():
    assert period_for("365").key == period_for(None).key == "30"


def test_the_sources_tables_take_the_same_statements_whatever_the_data(sources_data, contact_page):
    with CaptureQueriesContext(connection) as queries:
        tables = sources_report(sources_data, None)
    assert tables.by_channel == sources_by_channel(sources_data, None)
    assert tables.by_campaign == sources_by_campaign(sources_data, None)
    before = len(queries)
    # Much more of everything: more channels, links, clicks, forms, journal rows and leads.
    ws = sources_data
    for n in range(5):
        channel = do_create_channel(ws, platform="x", handle=f"more{n}", actor=None)
        link = do_create_link(ws, LinkSpec(channel=channel, page=contact_page, utm_campaign=f"c{n}"), actor=None)
        click(link, times=3)
        journal(contact_page.form, outcome="created", link_code=link.code, utm={"utm_campaign": f"c{n}"},
                lead=lead_with(ws, source="form", source_ref=f"other{n}", utm_campaign=f"c{n}"))
    with CaptureQueriesContext(connection) as queries:
        sources_report(sources_data, None)
    assert len(queries) == before <= 10


# --- owned vs rented -----------------------------------------------------------------------------


def monday(weeks_ago: int):
    today = timezone.localdate()
    return today - timedelta(days=today.weekday(), weeks=weeks_ago)


def at(weeks_ago: int, day: int = 1) -> datetime:
    return timezone.make_aware(datetime.combine(monday(weeks_ago) + timedelta(days=day), time(12)))


@pytest.fixture
def owned_data(personas, contact_page):
    """Instagram with follower counts and four leads by utm_source, Facebook without counts and
    three leads through its tracked link; only some of them reachable and consented."""
    ws, form = personas.workspace, contact_page.form
    instagram = do_create_channel(ws, platform="instagram", handle="acme", actor=None)
    facebook = do_create_channel(ws, platform="facebook", handle="acmefb", actor=None)
    FollowerSnapshot.objects.bulk_create(
        [
            FollowerSnapshot(channel=instagram, date=monday(3), followers=1000),
            FollowerSnapshot(channel=instagram, date=monday(1) + timedelta(days=2), followers=1200),
        ]
    )
    do_create_link(ws, LinkSpec(channel=facebook, page=contact_page), code="fb-post", actor=None)

    email_ig = lead_with(ws, utm_source="Instagram")
    consent(email_ig, "email_marketing", at=at(2))
    phone_ig = lead_with(ws, email="", phone="+44 20 7946 0958", utm_source="ig")
    consent(phone_ig, "calls", at=at(1))
    pending = lead_with(ws, utm_source="instagram")
    consent(pending, "email_marketing", "pending")
    withdrawn = lead_with(ws, utm_source="instagram")
    consent(withdrawn, "email_marketing", "withdrawn")
    calls_without_phone = lead_with(ws, utm_source="facebook")
    consent(calls_without_phone, "calls")

    via_link = lead_with(ws)
    consent(via_link, "email_marketing", at=at(0, 0))
    journal(form, outcome="created", link_code="fb-post", lead=via_link)
    both = lead_with(ws, utm_source="facebook")
    consent(both, "email_marketing", at=at(0, 0))
    journal(form, outcome="created", link_code="fb-post", lead=both)
    long_ago = lead_with(ws, utm_source="facebook")
    consent(long_ago, "email_marketing", at=at(30))
    return instagram, facebook


def test_owned_vs_rented_follows_followers_and_reachable_consented_leads_by_week(
    personas, owned_data
):
    instagram, facebook = owned_data
    trends = {t.channel: t for t in owned_vs_rented(personas.workspace, 12)}
    ig, fb = trends[instagram], trends[facebook]
    assert ig.weeks[-1] == monday(0) and len(ig.weeks) == 12
    assert ig.followers[-5:] == [None, 1000, 1000, 1200, 1200]
    assert ig.owned[-4:] == [0, 1, 2, 2]
    assert (ig.followers_now, ig.owned_now, ig.owned_new) == (1200, 2, 2)
    assert ig.per_thousand == pytest.approx(2 * 1000 / 1200)
    assert fb.owned[-2:] == [1, 3]
    assert (fb.followers_now, fb.owned_before, fb.owned_new, fb.per_thousand) == (None, 1, 2, None)


def test_all_weeks_start_at_the_first_follower_count_and_earlier_leads_are_in_its_figure(
    personas, owned_data
):
    facebook = owned_vs_rented(personas.workspace, None)[0]
    assert facebook.weeks[0] == monday(3)
    assert (facebook.owned_before, facebook.owned[0]) == (1, 1)


def test_owned_vs_rented_is_four_statements_whatever_the_data(personas, owned_data):
    # the channels, their follower counts, the kinds of suppression the workspace has, the leads
    with CaptureQueriesContext(connection) as queries:
        owned_vs_rented(personas.workspace, 52)
    assert len(queries) == 4


def test_a_workspace_without_channels_has_no_trends(personas):
    assert owned_vs_rented(personas.other_workspace, 12) == []


@pytest.fixture
def suppressed_data(personas, owned_data):
    """Instagram leads with consents whose contacts are (partly) on the suppression list."""
    ws = personas.workspace
    both_channels = lead_with(ws, phone="+44 20 7946 0101", utm_source="instagram")
    consent(both_channels, "email_marketing", at=at(0))
    consent(both_channels, "calls", at=at(0))
    do_add_suppression(ws, "email", both_channels.email_key, "unsubscribed")
    do_add_suppression(ws, "phone", both_channels.phone_e164, "do_not_call")
    only_email = lead_with(ws, utm_source="instagram")
    consent(only_email, "email_marketing", at=at(0))
    do_add_suppression(ws, "email", only_email.email_key, "bounced")
    phone_still_usable = lead_with(ws, phone="+44 20 7946 0102", utm_source="instagram")
    consent(phone_still_usable, "email_marketing", at=at(0))
    consent(phone_still_usable, "calls", at=at(0))
    do_add_suppression(ws, "email", phone_still_usable.email_key, "complained")
    email_still_usable = lead_with(ws, phone="+44 20 7946 0103", utm_source="instagram")
    consent(email_still_usable, "email_marketing", at=at(0))
    do_add_suppression(ws, "phone", email_still_usable.phone_e164, "do_not_call")
    elsewhere = lead_with(ws, utm_source="instagram")
    consent(elsewhere, "email_marketing", at=at(0))
    do_add_suppression(personas.other_workspace, "email", elsewhere.email_key, "unsubscribed")
    return owned_data


def test_leads_whose_usable_channels_are_all_suppressed_are_not_owned(personas, suppressed_data):
    instagram, _ = suppressed_data
    trends = {t.channel: t for t in owned_vs_rented(personas.workspace, 12)}
    # 2 from owned_data, then 3 of the 5 new ones: the two with every consented channel
    # suppressed are out; a usable phone, a usable email, or a suppression in another
    # workspace leave a lead in.
    assert trends[instagram].owned[-4:] == [0, 1, 2, 5]


def test_a_consent_counts_only_on_a_channel_that_is_not_suppressed(personas, owned_data):
    lead = lead_with(personas.workspace, phone="+44 20 7946 0104", utm_source="instagram")
    consent(lead, "email_marketing", at=at(0))
    do_add_suppression(personas.workspace, "email", lead.email_key, "unsubscribed")
    ig = owned_vs_rented(personas.workspace, 12)[1]
    # The phone is fine but the lead never agreed to calls: not reachable with consent.
    assert (ig.channel.platform, ig.owned_now) == ("instagram", 2)


def test_the_suppression_check_keeps_owned_vs_rented_at_four_statements(personas, suppressed_data):
    with CaptureQueriesContext(connection) as queries:
        owned_vs_rented(personas.workspace, 52)
    assert len(queries) == 4


def test_with_suppressions_of_one_kind_only_the_other_is_not_hashed_and_still_counts(personas, owned_data):
    """A kind the workspace has no suppression of is not checked (on SQLite, a SHA-256 in
    Python per consented lead): a lead whose email is suppressed is still owned by its phone."""
    lead = lead_with(personas.workspace, phone="+44 20 7946 0105", utm_source="instagram")
    consent(lead, "email_marketing", at=at(0))
    consent(lead, "calls", at=at(0))
    do_add_suppression(personas.workspace, "email", lead.email_key, "unsubscribed")
    email_only = lead_with(personas.workspace, utm_source="instagram")
    consent(email_only, "email_marketing", at=at(0))
    do_add_suppression(personas.workspace, "email", email_only.email_key, "bounced")
    with CaptureQueriesContext(connection) as queries:
        ig = owned_vs_rented(personas.workspace, 12)[1]
    grouped = queries.captured_queries[-1]["sql"]
    assert grouped.count("leads_suppression") == 1  # the email check alone
    assert (ig.channel.platform, ig.owned_now) == ("instagram", 3)  # owned_data's 2, and the phone


def test_a_totals_conversion_counts_only_the_leads_of_rows_with_clicks():
    rows = [
        SourceRow("instagram", "spring", clicks=200, new_leads=10),
        SourceRow("newsletter", "", clicks=50, new_leads=5),
        SourceRow("import", "", clicks=0, new_leads=6000),  # leads with no click to convert
    ]

    total = totals(rows)

    assert (total.clicks, total.new_leads) == (250, 6015)  # the sums stay sums
    assert total.conversion_pct == 6.0  # 15 of 250, not 6,015 of 250
    assert rows[0].conversion_pct == 5.0 and rows[2].conversion_pct is None


def test_clicks_sent_to_another_website_are_left_out_of_conversion(personas, contact_page):
    """A click on a link to a shop elsewhere made the channel's row read 0.0 %: Leadbase can
    never see such a click become a lead."""
    ws = personas.workspace
    youtube = do_create_channel(ws, platform="youtube", handle="acme", actor=None)
    shop = do_create_link(ws, LinkSpec(channel=youtube, target_url="https://shop.example/", utm_campaign="shop"),
                          code="yt-shop", actor=None)
    page = do_create_link(ws, LinkSpec(channel=youtube, page=contact_page, utm_campaign="spring"),
                          code="yt-page", actor=None)
    click(shop, times=3)

    (row,) = sources_by_channel(ws, None)
    assert (row.clicks, row.conversion_pct) == (3, None)  # "—", not 0.0 %
    by_campaign = {r.detail: r for r in sources_by_campaign(ws, None)}
    assert by_campaign["shop"].conversion_pct is None

    click(page, times=2)
    (row,) = sources_by_channel(ws, None)
    assert (row.clicks, row.page_clicks, row.conversion_pct) == (5, 2, 0.0)  # 0 leads of 2 clicks
    assert totals([row]).conversion_pct == 0.0 and totals([row]).clicks == 5


def test_a_link_without_clicks_in_the_period_makes_no_row(personas):
    ws = personas.workspace
    old = do_create_channel(ws, platform="x", handle="old", actor=None)
    link = do_create_link(ws, LinkSpec(channel=old, target_url="https://shop.example/", utm_campaign="winter"),
                          code="x-winter", actor=None)
    do_create_link(ws, LinkSpec(target_url="https://shop.example/", utm_source="flyer", utm_campaign="never"),
                   code="flyer", actor=None)  # never clicked
    click(link, days_ago=40)  # before the period
    old.archived_at = timezone.now()
    old.save()
    since = timezone.now() - timedelta(days=30)

    assert sources_by_campaign(ws, since) == []  # no row of zeros for "winter" or "never"
    assert sources_by_channel(ws, since) == []  # the archived channel had no traffic then
    assert [counts(r) for r in sources_by_campaign(ws, None)] == [(1, 0, 0, 0, 0)]


def test_a_campaigns_posts_and_new_leads_make_one_row_when_its_tags_were_posted_with_odd_spacing(
    personas, contact_page
):
    # The lead keeps its first-touch tags with whitespace folded; the journal keeps them as
    # posted. Compared as posted, "spring  sale<tab>x" made a row of posts and another of leads.
    ws, form = personas.workspace, contact_page.form
    posted = {"utm_source": " mail ", "utm_campaign": "spring  sale\tx"}
    lead = lead_with(ws, source="form", source_ref="contact", utm_source="mail", utm_campaign="spring sale x")
    journal(form, outcome="created", utm=posted, lead=lead)
    journal(form, status="spam", utm=posted)

    rows = sources_by_campaign(ws, None)

    assert [(r.name, r.detail, counts(r)) for r in rows] == [("mail", "spring sale x", (0, 1, 1, 1, 0))]
