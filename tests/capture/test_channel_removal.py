"""Removing tracked links and channels: deleted without history, archived with it; archived
links keep redirecting; lists, choices and reports afterwards; who may do it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from leadbase.capture.actions import do_remove_form
from leadbase.capture.channels import (
    ChannelError,
    LinkSpec,
    do_create_channel,
    do_create_link,
    do_record_snapshot,
    do_remove_channel,
    do_remove_link,
    do_restore_channel,
    do_restore_link,
)
from leadbase.capture.channels_queries import channels_for_user
from leadbase.capture.models import (
    Channel,
    FollowerSnapshot,
    Form,
    LandingPage,
    LinkClick,
    Removal,
    Submission,
    TrackedLink,
)
from leadbase.reports.queries import owned_vs_rented, sources_by_channel

pytestmark = pytest.mark.django_db

CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0"


@pytest.fixture
def page(personas) -> LandingPage:
    form = Form.objects.create(workspace=personas.workspace, slug="contact", name="Contact")
    return LandingPage.objects.create(
        workspace=personas.workspace, slug="contact", form=form, headline="Talk to us"
    )


@pytest.fixture
def channel(personas) -> Channel:
    return do_create_channel(personas.workspace, platform="instagram", handle="acme", actor=None)


@pytest.fixture
def link(personas, channel, page) -> TrackedLink:
    return do_create_link(
        personas.workspace, LinkSpec(channel=channel, page=page), code="spring", actor=None
    )


def follow(code: str):
    return Client().get(f"/r/{code}", headers={"User-Agent": CHROME})


@pytest.fixture
def clicked(link) -> TrackedLink:
    """The link after one human click."""
    assert follow(link.code).status_code == 302
    return link


# --- tracked links: actions and /r/<code> ------------------------------------------------------


def test_a_link_nobody_clicked_is_deleted_and_its_code_is_free_again(personas, link):
    assert do_remove_link(link, actor=personas.marketer) == Removal.DELETED

    assert not TrackedLink.objects.exists()
    assert follow("spring").status_code == 404
    do_create_link(
        personas.workspace, LinkSpec(target_url="https://a.example/"), code="spring", actor=None
    )


def test_a_clicked_link_is_archived_with_its_clicks(personas, clicked):
    assert do_remove_link(clicked, actor=personas.marketer) == Removal.ARCHIVED

    clicked.refresh_from_db()
    assert clicked.archived_at is not None
    assert LinkClick.objects.filter(link=clicked).count() == 1


def test_a_link_that_brought_a_submission_is_archived(personas, link, page):
    Submission.objects.create(
        workspace=personas.workspace,
        form=page.form,
        received_at=timezone.now(),
        link_code="spring",
        status="processed",
    )

    assert do_remove_link(link, actor=None) == Removal.ARCHIVED


def test_an_archived_link_keeps_redirecting_and_counting_clicks(clicked):
    do_remove_link(clicked, actor=None)

    response = follow("spring")

    assert response.status_code == 302
    assert response["Location"].startswith("/p/contact?")
    assert LinkClick.objects.filter(link=clicked).count() == 2


def test_an_archived_link_is_restored_and_not_removed_twice(clicked):
    do_remove_link(clicked, actor=None)
    with pytest.raises(ChannelError) as twice:
        do_remove_link(clicked, actor=None)

    do_restore_link(clicked, actor=None)

    assert twice.value.code == "archived"
    assert TrackedLink.objects.get().archived_at is None
    with pytest.raises(ChannelError) as again:
        do_restore_link(clicked, actor=None)
    assert again.value.code == "not_archived"


# --- tracked links: pages ------------------------------------------------------------------------


def test_the_link_confirmation_page_says_archive_and_changes_nothing(client_as, clicked):
    response = client_as("marketer").get(f"/capture/channels/links/{clicked.pk}/remove")

    assert response.status_code == 200
    assert b"Archive the link" in response.content and b"keeps redirecting" in response.content
    assert TrackedLink.objects.get().archived_at is None


def test_an_archived_link_leaves_the_lists_and_has_its_own(client_as, clicked, channel):
    client = client_as("marketer")

    response = client.post(f"/capture/channels/links/{clicked.pk}/remove", follow=True)

    assert response.redirect_chain == [("/capture/channels/links/", 302)]
    assert b"Tracked link /r/spring archived" in response.content
    assert b"/r/spring" not in client.get("/capture/channels/links/").content
    assert b"/r/spring" not in client.get(f"/capture/channels/{channel.pk}/").content
    archived = client.get("/capture/channels/links/?archived=1").content.decode()
    assert "/r/spring" in archived and f"/capture/channels/links/{clicked.pk}/restore" in archived
    client.post(f"/capture/channels/links/{clicked.pk}/restore")
    assert b"/r/spring" in client.get("/capture/channels/links/").content


@pytest.mark.parametrize(
    ("persona", "status"), [("sales", 403), ("viewer", 403), ("outsider", 404)]
)
def test_others_can_neither_remove_nor_restore_a_link(client_as, clicked, persona, status):
    client = client_as(persona)

    assert client.get(f"/capture/channels/links/{clicked.pk}/remove").status_code == status
    assert client.post(f"/capture/channels/links/{clicked.pk}/remove").status_code == status
    do_remove_link(clicked, actor=None)
    assert client.post(f"/capture/channels/links/{clicked.pk}/restore").status_code == status

    assert TrackedLink.objects.get().archived_at is not None


def test_link_restore_is_post_only_and_an_unknown_link_is_not_found(client_as, link):
    client = client_as("owner")

    assert client.get(f"/capture/channels/links/{link.pk}/restore").status_code == 405
    assert client.post(f"/capture/channels/links/{link.pk + 99}/remove").status_code == 404
    assert TrackedLink.objects.get().archived_at is None


def test_link_removal_needs_a_csrf_token(personas, link):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.marketer)

    assert client.post(f"/capture/channels/links/{link.pk}/remove").status_code == 403
    assert TrackedLink.objects.exists()


# --- channels: actions -------------------------------------------------------------------------


def test_a_channel_without_history_is_deleted(personas, channel):
    assert do_remove_channel(channel, actor=personas.marketer) == Removal.DELETED

    assert not Channel.objects.exists()


def test_a_channel_with_follower_counts_is_archived_with_them(personas, channel):
    do_record_snapshot(channel, day=timezone.localdate(), followers=1200, actor=None)

    assert do_remove_channel(channel, actor=None) == Removal.ARCHIVED

    assert Channel.objects.get().archived_at is not None
    assert FollowerSnapshot.objects.filter(channel=channel).count() == 1


def test_a_channel_with_links_is_archived_and_its_links_keep_working(clicked, channel):
    assert do_remove_channel(channel, actor=None) == Removal.ARCHIVED

    assert follow("spring").status_code == 302
    assert TrackedLink.objects.get().channel_id == channel.pk


def test_an_archived_account_cannot_be_added_again_but_restored(personas, channel):
    do_record_snapshot(channel, day=timezone.localdate(), followers=10, actor=None)
    do_remove_channel(channel, actor=None)

    with pytest.raises(ChannelError) as again:
        do_create_channel(personas.workspace, platform="instagram", handle="@ACME", actor=None)
    do_restore_channel(channel, actor=None)

    assert "archived channel" in again.value.message
    assert Channel.objects.get().archived_at is None


# --- channels: lists, choices and reports --------------------------------------------------------


def test_an_archived_channel_leaves_the_lists_the_link_form_and_the_api(
    client_as, personas, channel, link
):
    client = client_as("marketer")
    client.post(f"/capture/channels/{channel.pk}/remove", follow=True)

    listed = client.get("/capture/channels/").content.decode()
    archived = client.get("/capture/channels/?archived=1").content.decode()
    new_link = client.get("/capture/channels/links/new").content.decode()
    edit_link = client.get(f"/capture/channels/links/{link.pk}/edit").content.decode()

    assert "@acme" not in listed and "Archived channels (1)" in listed
    assert "@acme" in archived
    assert "Instagram @acme</option>" not in new_link
    # The link's own channel stays a choice, or saving the link would fail.
    assert f'<option value="{channel.pk}" selected>Instagram @acme</option>' in edit_link
    membership = personas.marketer.memberships.get()
    assert channels_for_user(membership) == []  # what GET /api/v1/channels lists


def test_an_archived_channel_is_out_of_owned_vs_rented_and_in_sources_only_with_traffic(
    personas, clicked, channel
):
    quiet = do_create_channel(personas.workspace, platform="x", handle="quiet", actor=None)
    do_record_snapshot(quiet, day=timezone.localdate(), followers=5, actor=None)
    do_remove_channel(channel, actor=None)
    do_remove_channel(quiet, actor=None)
    since = timezone.now() - timedelta(days=30)

    assert owned_vs_rented(personas.workspace, 12) == []
    rows = sources_by_channel(personas.workspace, since)
    assert [(r.detail, r.clicks) for r in rows] == [("acme", 1)]


def test_a_link_cannot_be_pointed_at_an_archived_forms_page(client_as, personas, page):
    Submission.objects.create(
        workspace=personas.workspace, form=page.form, received_at=timezone.now(), status="spam"
    )
    do_remove_form(page.form, actor=None)

    response = client_as("marketer").post(
        "/capture/channels/links/new", {"page": page.pk, "code": "late"}
    )

    assert response.status_code == 400
    assert not TrackedLink.objects.exists()


# --- channels: pages ---------------------------------------------------------------------------


def test_the_channel_confirmation_page_says_delete_or_archive(client_as, channel):
    client = client_as("owner")

    empty = client.get(f"/capture/channels/{channel.pk}/remove")
    do_record_snapshot(channel, day=timezone.localdate(), followers=10, actor=None)
    used = client.get(f"/capture/channels/{channel.pk}/remove")

    assert b"Delete the channel" in empty.content
    assert b"Archive the channel" in used.content
    assert Channel.objects.get().archived_at is None


def test_a_marketer_archives_and_restores_a_channel(client_as, clicked, channel):
    client = client_as("marketer")

    removed = client.post(f"/capture/channels/{channel.pk}/remove")
    page = client.get(f"/capture/channels/{channel.pk}/").content.decode()
    restored = client.post(f"/capture/channels/{channel.pk}/restore")

    assert removed["Location"] == "/capture/channels/"
    assert "was archived on" in page and f"/capture/channels/{channel.pk}/restore" in page
    assert restored["Location"] == f"/capture/channels/{channel.pk}/"
    assert Channel.objects.get().archived_at is None


@pytest.mark.parametrize(
    ("persona", "status"), [("sales", 403), ("viewer", 403), ("outsider", 404)]
)
def test_others_can_neither_remove_nor_restore_a_channel(
    client_as, clicked, channel, persona, status
):
    client = client_as(persona)

    assert client.get(f"/capture/channels/{channel.pk}/remove").status_code == status
    assert client.post(f"/capture/channels/{channel.pk}/remove").status_code == status
    do_remove_channel(channel, actor=None)
    assert client.post(f"/capture/channels/{channel.pk}/restore").status_code == status

    assert Channel.objects.get().archived_at is not None


def test_channel_restore_is_post_only_and_an_unknown_channel_is_not_found(client_as, channel):
    client = client_as("owner")

    assert client.get(f"/capture/channels/{channel.pk}/restore").status_code == 405
    assert client.post(f"/capture/channels/{channel.pk + 99}/remove").status_code == 404
    assert Channel.objects.get().archived_at is None
