"""Tracked links: codes, targets and UTM defaults, the public /r/<code> redirect, bot filtering,
and the link pages per persona."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadbase.capture import views_channels
from leadbase.capture.bots import is_bot
from leadbase.capture.channels import (
    CODE_ALPHABET,
    ChannelError,
    LinkSpec,
    clean_referrer,
    do_create_channel,
    do_create_link,
    do_update_link,
    with_query,
)
from leadbase.capture.models import Form, LandingPage, LinkClick, TrackedLink

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0.0.0 Safari/537.36"
)


@pytest.fixture
def channel(personas):
    return do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)


@pytest.fixture
def page(personas):
    form = Form.objects.create(workspace=personas.workspace, slug="contact", name="Contact")
    return LandingPage.objects.create(
        workspace=personas.workspace, slug="contact", form=form, headline="Talk to us"
    )


@pytest.fixture
def link(personas, channel, page):
    return do_create_link(
        personas.workspace,
        LinkSpec(channel=channel, page=page, utm_campaign="spring"),
        code="spring",
        actor=None,
    )


def follow(code: str, user_agent: str = CHROME, method: str = "get", **headers: str):
    return getattr(Client(), method)(f"/r/{code}", headers={"User-Agent": user_agent, **headers})


#: The ways a landing page goes offline (``/p/<slug>`` would not show it).
OFFLINE = ["page unpublished", "form unpublished", "form archived"]


def take_offline(page: LandingPage, how: str) -> None:
    if how == "page unpublished":
        LandingPage.objects.filter(pk=page.pk).update(is_published=False)
    elif how == "form unpublished":
        Form.objects.filter(pk=page.form_id).update(is_published=False)
    else:  # archived alone: the redirect must not rely on archiving also unpublishing
        Form.objects.filter(pk=page.form_id).update(archived_at=timezone.now())


def bring_online(page: LandingPage) -> None:
    LandingPage.objects.filter(pk=page.pk).update(is_published=True)
    Form.objects.filter(pk=page.form_id).update(is_published=True, archived_at=None)


class TestLinkActions:
    def test_a_random_code_is_eight_unambiguous_characters(self, personas, page):
        link = do_create_link(personas.workspace, LinkSpec(page=page), actor=None)
        assert re.fullmatch(f"[{CODE_ALPHABET}]{{8}}", link.code)
        assert not set("lo01") & set(link.code)

    def test_a_custom_code_is_stored_lowercase(self, personas, page):
        assert (
            do_create_link(
                personas.workspace, LinkSpec(page=page), code="Spring-Sale", actor=None
            ).code
            == "spring-sale"
        )

    @pytest.mark.parametrize(
        "code", ["ab", "-spring", "spring-", "spr ing", "spring_sale", "x" * 33, "früh"]
    )
    def test_a_bad_custom_code_is_refused(self, personas, page, code):
        with pytest.raises(ChannelError) as error:
            do_create_link(personas.workspace, LinkSpec(page=page), code=code, actor=None)
        assert (error.value.code, error.value.field) == ("invalid_code", "code")

    def test_a_code_used_in_any_workspace_is_taken(self, personas, link):
        with pytest.raises(ChannelError) as error:
            do_create_link(
                personas.other_workspace,
                LinkSpec(target_url="https://example.com"),
                code="SPRING",
                actor=None,
            )
        assert error.value.code == "code_taken"

    def test_utm_source_defaults_to_the_platform_and_medium_to_social(self, link):
        assert (link.utm_source, link.utm_medium, link.utm_campaign) == (
            "instagram",
            "social",
            "spring",
        )

    @pytest.mark.parametrize(
        ("spec", "code"),
        [
            (LinkSpec(), "no_target"),
            (LinkSpec(target_url="ftp://example.com/file"), "invalid_url"),
        ],
    )
    def test_a_link_needs_one_valid_target(self, personas, spec, code):
        with pytest.raises(ChannelError) as error:
            do_create_link(personas.workspace, spec, actor=None)
        assert error.value.code == code

    def test_a_link_cannot_point_at_a_page_and_an_address(self, personas, page):
        with pytest.raises(ChannelError) as error:
            do_create_link(
                personas.workspace,
                LinkSpec(page=page, target_url="https://example.com"),
                actor=None,
            )
        assert error.value.code == "two_targets"

    def test_a_link_cannot_use_another_workspaces_channel(self, personas, channel):
        with pytest.raises(ChannelError) as error:
            do_create_link(
                personas.other_workspace,
                LinkSpec(channel=channel, target_url="https://example.com"),
                actor=None,
            )
        assert error.value.code == "not_found"

    def test_an_update_keeps_the_code(self, link):
        updated = do_update_link(
            link, LinkSpec(target_url="https://example.com/new", utm_source="ig"), actor=None
        )
        assert (updated.code, updated.page, updated.utm_source) == ("spring", None, "ig")


class TestQueryMerge:
    def test_tags_are_appended_after_the_existing_parameters_and_before_the_fragment(self):
        merged = with_query(
            "https://shop.example/spring?ref=bio&utm_source=old#top",
            {"utm_source": "instagram", "lb_link": "abc"},
        )
        assert merged == "https://shop.example/spring?ref=bio&utm_source=instagram&lb_link=abc#top"

    def test_other_parameters_are_kept_verbatim(self):
        assert (
            with_query("/p/x?q=a%20b&flag&utm_medium=x", {"utm_medium": "social"})
            == "/p/x?q=a%20b&flag&utm_medium=social"
        )

    def test_values_are_encoded(self):
        assert (
            with_query("https://e.example/", {"utm_campaign": "spring & summer"})
            == "https://e.example/?utm_campaign=spring+%26+summer"
        )


class TestRedirect:
    def test_it_redirects_to_the_landing_page_with_the_tags_and_the_code(self, link):
        response = follow("spring")
        assert response.status_code == 302
        assert (
            response["Location"]
            == "/p/contact?utm_source=instagram&utm_medium=social&utm_campaign=spring&lb_link=spring"
        )
        assert "no-store" in response["Cache-Control"]

    def test_it_merges_the_tags_into_a_target_address(self, personas):
        do_create_link(
            personas.workspace,
            LinkSpec(target_url="https://shop.example/a?ref=bio&utm_medium=x", utm_campaign="bio"),
            code="shop",
            actor=None,
        )
        assert (
            follow("shop")["Location"]
            == "https://shop.example/a?ref=bio&utm_medium=social&utm_campaign=bio&lb_link=shop"
        )

    def test_a_person_clicking_is_counted_without_personal_data(self, link):
        follow("SPRING", Referer="https://l.instagram.com/?u=x&e=me%40example.org")
        click = LinkClick.objects.get()
        assert (click.link, click.referrer) == (link, "https://l.instagram.com/")
        assert {f.name for f in LinkClick._meta.fields} == {"id", "link", "at", "referrer"}

    def test_an_unknown_code_is_a_404_page(self, db):
        response = follow("nope")
        assert response.status_code == 404
        assert b"does not lead anywhere" in response.content
        # a public page: not indexed, and no cookie for a visitor who is not signed in
        assert b'<meta name="robots" content="noindex">' in response.content
        assert not response.cookies

    def test_a_link_whose_page_was_deleted_is_a_404(self, link, page):
        TrackedLink.objects.filter(pk=link.pk).update(page=None)
        assert follow("spring").status_code == 404
        assert not LinkClick.objects.exists()

    @pytest.mark.parametrize("how", OFFLINE)
    def test_a_link_whose_page_is_offline_is_a_404_without_a_click(self, link, page, how):
        take_offline(page, how)
        response = follow("spring")
        assert response.status_code == 404
        assert b"does not lead anywhere" in response.content
        assert not LinkClick.objects.exists()

        bring_online(page)
        assert follow("spring").status_code == 302
        assert LinkClick.objects.count() == 1

    def test_the_redirect_lets_the_visitors_referrer_through_to_the_landing_page(self, link):
        response = follow("spring")
        assert response.status_code == 302
        # Not the site's same-origin, which would drop the post's site as referrer there.
        assert response["Referrer-Policy"] == "no-referrer-when-downgrade"

    def test_a_failing_click_write_still_redirects(self, link, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("database is locked")

        monkeypatch.setattr(views_channels, "do_record_click", broken)
        assert follow("spring").status_code == 302

    def test_a_head_request_redirects_without_counting(self, link):
        assert follow("spring", method="head").status_code == 302
        assert not LinkClick.objects.exists()

    def test_a_post_is_not_allowed(self, link):
        assert Client().post("/r/spring").status_code == 405


BOTS = [
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Facebot",
    "Twitterbot/1.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "WhatsApp/2.23.20.0 A",
    "TelegramBot (like TwitterBot)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 "
    "Safari/605.1.15 (Applebot/0.1; +http://www.apple.com/go/applebot)",
    "Pinterest/0.2 (+https://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
    "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
    "Iframely/1.3.1 (+https://iframely.com/docs/about)",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.32.3",
    "Go-http-client/2.0",
    "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
    "",
    "   ",
]
PEOPLE = [
    CHROME,
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 Instagram 326.0.3.30.91 (iPhone14,5; iOS 17_4; en_US; en; scale=3.00; 1170x2532; 589012345)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 [FBAN/FBIOS;FBAV/458.0.0.37.104;FBBV/580000000;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS]",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 [Pinterest/iOS]",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/UQ1A.240205.004; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.105 Mobile Safari/537.36 [Pinterest/Android]",
    "Mozilla/5.0 (Linux; Android 12; CUBOT P60 Build/SP1A.210812.016) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
]


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots_and_link_previews_are_redirected_but_not_counted(link, user_agent):
    assert follow("spring", user_agent=user_agent).status_code == 302
    assert not LinkClick.objects.exists()


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_browsers_and_in_app_browsers_are_people(user_agent):
    assert not is_bot("GET", user_agent)


def test_a_browser_prefetch_is_not_a_click():
    assert is_bot("GET", CHROME, {"Sec-Purpose": "prefetch;prerender"})


def test_the_referrer_loses_its_query_and_anything_not_a_web_address_is_dropped():
    assert clean_referrer("https://t.co/abc?amp=1#x") == "https://t.co/abc"
    assert clean_referrer("android-app://com.google.android.gm/") == ""


# --- pages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("persona", ["owner", "marketer", "sales", "viewer"])
def test_every_member_reads_the_links(client_as, link, persona):
    page = client_as(persona).get("/capture/channels/links/")
    assert page.status_code == 200
    assert b"/r/spring" in page.content


def test_an_outsider_sees_neither_our_links_nor_their_edit_page(client_as, link):
    client = client_as("outsider")
    assert b"/r/spring" not in client.get("/capture/channels/links/").content
    assert client.get(f"/capture/channels/links/{link.pk}/edit").status_code == 404


def test_an_anonymous_visitor_is_sent_to_log_in_from_the_links(client_as):
    assert client_as("anonymous").get("/capture/channels/links/").status_code == 302


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("marketer", 200), ("sales", 403), ("viewer", 403)]
)
def test_only_owners_and_marketers_create_or_edit_links(client_as, link, persona, status):
    client = client_as(persona)
    assert client.get("/capture/channels/links/new").status_code == status
    assert client.get(f"/capture/channels/links/{link.pk}/edit").status_code == status


def test_a_marketer_creates_a_link_from_the_channel_page(client_as, channel, page):
    response = client_as("marketer").post(
        "/capture/channels/links/new",
        {"channel": channel.pk, "page": page.pk, "label": "Bio", "utm_campaign": "always-on"},
    )
    link = TrackedLink.objects.get()
    assert response["Location"] == f"/capture/channels/{channel.pk}/"
    assert (link.utm_source, link.utm_medium, link.label) == ("instagram", "social", "Bio")


def test_a_taken_code_is_shown_on_the_form(client_as, link, page):
    response = client_as("owner").post(
        "/capture/channels/links/new", {"page": page.pk, "code": "spring"}
    )
    assert response.status_code == 400
    assert b"already used" in response.content


@pytest.mark.parametrize("how", OFFLINE)
def test_the_link_form_offers_only_pages_that_are_online(client_as, personas, page, how):
    offline = LandingPage.objects.create(
        workspace=personas.workspace,
        slug="old-offer",
        form=Form.objects.create(workspace=personas.workspace, slug="old-offer", name="Old"),
        headline="Old offer",
    )
    take_offline(offline, how)
    client = client_as("marketer")
    form = client.get("/capture/channels/links/new").content.decode()
    assert "Talk to us" in form and "Old offer" not in form

    response = client.post("/capture/channels/links/new", {"page": offline.pk})
    assert response.status_code == 400
    assert not TrackedLink.objects.exists()


@pytest.mark.parametrize("how", OFFLINE)
def test_a_link_whose_page_went_offline_can_still_be_edited(client_as, link, page, how):
    take_offline(page, how)
    client = client_as("marketer")
    form = client.get(f"/capture/channels/links/{link.pk}/edit")
    assert form.status_code == 200
    assert "Talk to us (not published)" in form.content.decode()

    response = client.post(
        f"/capture/channels/links/{link.pk}/edit", {"page": page.pk, "label": "Bio"}
    )
    assert response.status_code == 302
    link.refresh_from_db()
    assert (link.page, link.label) == (page, "Bio")


def test_the_edit_form_has_no_code_field(client_as, link):
    page = client_as("owner").get(f"/capture/channels/links/{link.pk}/edit").content.decode()
    assert 'name="code"' not in page


def test_the_links_list_costs_the_same_queries_whatever_the_number_of_links(
    client_as, personas, channel, page
):
    client = client_as("viewer")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/capture/channels/links/").status_code == 200
        return len(captured)

    do_create_link(personas.workspace, LinkSpec(channel=channel, page=page), actor=None)
    few = queries()
    for n in range(5):
        link = do_create_link(
            personas.workspace, LinkSpec(channel=channel, page=page, label=f"post {n}"), actor=None
        )
        follow(link.code)
    assert queries() == few


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("youtube.com/@acme", "https://youtube.com/@acme"),
        ("www.instagram.com/acme.studio/", "https://www.instagram.com/acme.studio/"),
        ("shop.example:8443/spring?x=1", "https://shop.example:8443/spring?x=1"),
        ("http://shop.example/a", "http://shop.example/a"),  # a scheme typed stays
    ],
)
def test_an_address_typed_without_https_gets_it_as_a_browser_would(typed, kept):
    from leadbase.capture.channels import with_scheme

    assert with_scheme(typed) == kept


@pytest.mark.parametrize("typed", ["acme", "ftp://example.com/f", "not an address", "javascript:alert(1)", ""])
def test_what_is_not_a_host_name_gets_no_scheme(typed):
    from leadbase.capture.channels import with_scheme

    assert with_scheme(typed) == typed


def test_a_channel_and_a_link_typed_without_https_are_kept_with_it(personas):
    from leadbase.capture.channels import LinkSpec, do_create_channel, do_create_link

    channel = do_create_channel(personas.workspace, platform="youtube", handle="acme", url="youtube.com/@acme",
                                actor=None)
    assert channel.url == "https://youtube.com/@acme"
    link = do_create_link(personas.workspace, LinkSpec(channel=channel, target_url="shop.example/spring"), actor=None)
    assert link.target_url == "https://shop.example/spring"
