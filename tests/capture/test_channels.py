"""Channels and follower counts: the actions, the follower CSV import and the pages per persona."""

from __future__ import annotations

import html
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from leadbase.capture.channels import (
    ChannelError,
    SnapshotImportError,
    do_create_channel,
    do_import_snapshots,
    do_record_snapshot,
    do_update_channel,
    parse_count,
    parse_day,
)
from leadbase.capture.models import Channel, FollowerSnapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def channel(personas) -> Channel:
    return do_create_channel(
        personas.workspace, platform="instagram", handle="acme", actor=personas.owner
    )


def write_csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "followers.csv"
    path.write_text(text, encoding="utf-8")
    return path


class TestChannelActions:
    def test_it_drops_a_leading_at_sign_and_extra_spaces_from_the_handle(self, personas):
        channel = do_create_channel(
            personas.workspace, platform="x", handle="  @acme  studio ", actor=None
        )
        assert channel.handle == "acme studio"

    def test_it_refuses_the_same_handle_twice_whatever_its_case(self, personas, channel):
        with pytest.raises(ChannelError) as error:
            do_create_channel(personas.workspace, platform="instagram", handle="@ACME", actor=None)
        assert (error.value.code, error.value.field) == ("duplicate_channel", "handle")

    def test_the_same_handle_on_another_platform_is_another_channel(self, personas, channel):
        do_create_channel(personas.workspace, platform="facebook", handle="acme", actor=None)
        assert Channel.objects.count() == 2

    @pytest.mark.parametrize(
        ("platform", "handle", "url", "field"),
        [
            ("myspace", "acme", "", "platform"),
            ("x", " @ ", "", "handle"),
            ("x", "a" * 101, "", "handle"),
            ("x", "acme", "javascript:alert(1)", "url"),
            ("x", "acme", "instagram com/acme", "url"),  # (instagram.com/acme gets https://)
        ],
    )
    def test_it_refuses_a_bad_channel_naming_the_field(
        self, personas, platform, handle, url, field
    ):
        with pytest.raises(ChannelError) as error:
            do_create_channel(
                personas.workspace, platform=platform, handle=handle, url=url, actor=None
            )
        assert error.value.field == field
        assert not Channel.objects.exists()

    def test_an_update_may_keep_its_own_handle(self, channel):
        updated = do_update_channel(
            channel,
            platform="instagram",
            handle="Acme",
            url="https://instagram.com/acme",
            actor=None,
        )
        assert (updated.handle, updated.url) == ("Acme", "https://instagram.com/acme")


class TestSnapshots:
    def test_a_second_count_for_the_same_day_replaces_the_first(self, channel):
        today = timezone.localdate()
        do_record_snapshot(channel, day=today, followers=100, actor=None)
        do_record_snapshot(channel, day=today, followers=120, actor=None)
        assert list(FollowerSnapshot.objects.values_list("date", "followers")) == [(today, 120)]

    def test_a_count_in_the_future_is_refused(self, channel):
        with pytest.raises(ChannelError) as error:
            do_record_snapshot(
                channel, day=timezone.localdate() + timedelta(days=1), followers=1, actor=None
            )
        assert (error.value.code, error.value.field) == ("future_date", "date")

    def test_a_count_before_2000_is_refused_as_a_mistyped_year(self, channel):
        with pytest.raises(ChannelError) as error:
            do_record_snapshot(channel, day=date(25, 3, 3), followers=1, actor=None)
        assert (error.value.code, error.value.field) == ("too_old", "date")
        assert "0025-03-03 is before 2000" in error.value.message
        assert not FollowerSnapshot.objects.exists()

    @pytest.mark.parametrize(
        ("text", "day"),
        [
            ("2025-03-10", date(2025, 3, 10)),
            ("2025/03/10", date(2025, 3, 10)),
            ("10.03.2025", date(2025, 3, 10)),
            ("2025-03-10T08:00:00Z", date(2025, 3, 10)),
            ("2025-03-10T08:00:00.000+01:00", date(2025, 3, 10)),
            ("2025-03-10 08:00", date(2025, 3, 10)),
            ("1.3.2025", date(2025, 3, 1)),
        ],
    )
    def test_it_reads_unambiguous_dates(self, text, day):
        assert parse_day(text) == day

    @pytest.mark.parametrize(
        ("text", "says"),
        [
            ("03/10/2025", "could be read day first or month first"),
            ("yesterday", "is not a date; write it as YYYY-MM-DD"),
            ("2025-02-30", "is written as a date, but there is no such day"),
            ("2026-13-01", "is written as a date, but there is no such day"),
            ("", "is not a date"),
        ],
    )
    def test_it_refuses_ambiguous_or_impossible_dates_saying_which(self, text, says):
        with pytest.raises(ValueError, match=says):
            parse_day(text)

    @pytest.mark.parametrize(
        "text",
        [
            "2025-03-011",
            "2025-03-10garbage",
            "2025-03-10 garbage",
            "2025-03-10T",
            "20250308",
            "2025-W10-7",
            "2025/03/10 08:00",
            "2025-3-10",
        ],
    )
    def test_it_refuses_anything_but_the_whole_of_a_documented_form(self, text):
        with pytest.raises(ValueError):
            parse_day(text)

    @pytest.mark.parametrize(
        ("text", "count"),
        [("12840", 12840), ("12,840", 12840), ("1.234.567", 1234567), ("12 840", 12840), ("0", 0)],
    )
    def test_it_reads_counts_grouped_by_thousands(self, text, count):
        assert parse_count(text) == count

    @pytest.mark.parametrize("text", ["12.5", "-3", "12k", "1,23", "99999999999", "١٢"])
    def test_it_refuses_what_is_not_a_whole_count(self, text):
        with pytest.raises(ValueError):
            parse_count(text)


class TestFollowerImport:
    def test_it_imports_new_days_and_replaces_known_ones(self, channel, tmp_path):
        do_record_snapshot(channel, day=date(2025, 3, 3), followers=1, actor=None)
        path = write_csv(tmp_path, "Date;Followers\n2025-03-03;12.840\n2025-03-10;13.015\n")
        result = do_import_snapshots(channel, path, actor=None)
        assert (result.created, result.updated) == (1, 1)
        assert list(FollowerSnapshot.objects.values_list("date", "followers")) == [
            (date(2025, 3, 3), 12840),
            (date(2025, 3, 10), 13015),
        ]

    def test_bad_rows_are_reported_with_a_reason_and_nothing_is_written(self, channel, tmp_path):
        tomorrow = timezone.localdate() + timedelta(days=1)
        path = write_csv(
            tmp_path,
            (
                "date,followers\n2025-03-03,100\n03/04/2025,110\n2025-03-17,many\n2025-03-03,120\n"
                f"{tomorrow:%Y-%m-%d},130\n2025-03-24,140,extra\n2025-03-31,150\n"
            ),
        )
        with pytest.raises(SnapshotImportError) as error:
            do_import_snapshots(channel, path, actor=None)
        assert [(p.row, p.code) for p in error.value.problems] == [
            (2, "invalid_date"),
            (3, "invalid_followers"),
            (4, "duplicate_date"),
            (5, "future_date"),
            (6, "malformed_row"),
        ]
        assert "already on row 1" in error.value.problems[2].message
        assert not FollowerSnapshot.objects.exists()

    def test_a_day_twice_is_reported_even_when_its_first_count_is_bad(self, channel, tmp_path):
        # Fixing row 1's count used to bring row 3's duplicate to light only on the next upload.
        path = write_csv(tmp_path, "date,followers\n2025-03-03,12.5k\n2025-03-10,100\n2025-03-03,1\n")
        with pytest.raises(SnapshotImportError) as error:
            do_import_snapshots(channel, path, actor=None)
        assert [(p.row, p.code) for p in error.value.problems] == [(1, "invalid_followers"), (3, "duplicate_date")]
        assert "already on row 1" in error.value.problems[1].message

    def test_a_row_before_2000_is_refused_as_a_mistyped_year(self, channel, tmp_path):
        path = write_csv(tmp_path, "date,followers\n2025-03-03,100\n0001-01-01,5\n")
        with pytest.raises(SnapshotImportError) as error:
            do_import_snapshots(channel, path, actor=None)
        assert [(p.row, p.code) for p in error.value.problems] == [(2, "too_old")]
        assert not FollowerSnapshot.objects.exists()

    def test_a_date_with_a_typo_is_refused_not_read_as_another_day(self, channel, tmp_path):
        path = write_csv(
            tmp_path,
            "date,followers\n2025-03-011,100\n2025-03-10garbage,110\n20250308,120\n"
            "2025-W10-7,130\n",
        )
        with pytest.raises(SnapshotImportError) as error:
            do_import_snapshots(channel, path, actor=None)
        assert [(p.row, p.code) for p in error.value.problems] == [
            (1, "invalid_date"),
            (2, "invalid_date"),
            (3, "invalid_date"),
            (4, "invalid_date"),
        ]
        assert not FollowerSnapshot.objects.exists()

    def test_a_file_without_the_two_columns_is_refused(self, channel, tmp_path):
        with pytest.raises(ChannelError) as error:
            do_import_snapshots(
                channel, write_csv(tmp_path, "day,likes\n2025-03-03,4\n"), actor=None
            )
        assert error.value.code == "missing_columns"

    def test_a_file_that_is_not_csv_is_refused(self, channel, tmp_path):
        path = tmp_path / "followers.xlsx"
        path.write_bytes(b"PK\x03\x04 not really a workbook")
        with pytest.raises(ChannelError) as error:
            do_import_snapshots(channel, path, actor=None)
        assert error.value.code == "not_csv"


# --- pages ---------------------------------------------------------------------------------------

EVERYONE = ["owner", "marketer", "sales", "viewer"]


@pytest.mark.parametrize("persona", EVERYONE)
def test_every_member_reads_the_channel_list_and_page(client_as, channel, persona):
    client = client_as(persona)
    listed = client.get("/capture/channels/")
    assert listed.status_code == 200
    assert b"@acme" in listed.content
    assert client.get(f"/capture/channels/{channel.pk}/").status_code == 200


def test_the_channel_page_shows_the_follower_history_as_a_chart_and_a_table(client_as, channel):
    do_record_snapshot(channel, day=date(2025, 3, 3), followers=12840, actor=None)
    page = client_as("viewer").get(f"/capture/channels/{channel.pk}/").content.decode()
    assert "<svg" in page and 'role="img"' in page
    assert "12,840" in page
    assert "Record the count" not in page  # a viewer cannot record one


def test_an_outsider_sees_their_own_empty_list_and_not_our_channel(client_as, channel):
    client = client_as("outsider")
    assert b"@acme" not in client.get("/capture/channels/").content
    assert client.get(f"/capture/channels/{channel.pk}/").status_code == 404
    assert client.get(f"/capture/channels/{channel.pk}/edit").status_code == 404


@pytest.mark.parametrize(
    "path", ["/capture/channels/", "/capture/channels/new", "/capture/channels/1/"]
)
def test_an_anonymous_visitor_is_sent_to_log_in(client_as, path):
    response = client_as("anonymous").get(path)
    assert response.status_code == 302
    assert "/login" in response["Location"]


@pytest.mark.parametrize(
    ("persona", "status"), [("owner", 200), ("marketer", 200), ("sales", 403), ("viewer", 403)]
)
def test_only_owners_and_marketers_open_the_forms(client_as, channel, persona, status):
    client = client_as(persona)
    for path in ("new", f"{channel.pk}/edit", f"{channel.pk}/followers/import"):
        assert client.get(f"/capture/channels/{path}").status_code == status


def test_a_marketer_adds_a_channel_and_lands_on_its_page(client_as, personas):
    response = client_as("marketer").post(
        "/capture/channels/new", {"platform": "youtube", "handle": "@AcmeStudio", "url": ""}
    )
    channel = Channel.objects.get()
    assert (channel.workspace, channel.handle) == (personas.workspace, "AcmeStudio")
    assert response["Location"] == f"/capture/channels/{channel.pk}/"


def test_a_duplicate_handle_is_shown_on_the_form(client_as, channel):
    response = client_as("owner").post(
        "/capture/channels/new", {"platform": "instagram", "handle": "ACME"}
    )
    assert response.status_code == 400
    assert b"already a channel" in response.content


def test_a_follower_count_posted_with_htmx_returns_the_history_section(client_as, channel):
    response = client_as("marketer").post(
        f"/capture/channels/{channel.pk}/followers",
        {"date": "2025-03-03", "followers": "5400"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith('<section class="card" id="history"')
    assert FollowerSnapshot.objects.get().followers == 5400


def test_a_future_follower_count_is_refused_on_the_page(client_as, channel):
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = client_as("owner").post(
        f"/capture/channels/{channel.pk}/followers",
        {"date": tomorrow.isoformat(), "followers": "1"},
    )
    assert response.status_code == 400
    assert b"in the future" in response.content
    assert not FollowerSnapshot.objects.exists()


def csv_problem(tmp_path: Path, channel: Channel, row: str) -> str:
    """The message the follower CSV import gives for ``row``, its one bad row."""
    with pytest.raises(SnapshotImportError) as error:
        do_import_snapshots(channel, write_csv(tmp_path, f"date,followers\n{row}\n"), actor=None)
    (problem,) = error.value.problems
    return problem.message


@pytest.mark.parametrize(
    ("date_text", "followers", "field"),
    [
        ("03/04/2025", "100", "date"),
        ("2025-03-011", "100", "date"),
        ("0025-03-03", "100", "date"),
        ("2025-03-03", "12k", "followers"),
    ],
)
def test_a_typed_count_is_refused_as_the_csv_refuses_it(
    client_as, channel, tmp_path, date_text, followers, field
):
    response = client_as("owner").post(
        f"/capture/channels/{channel.pk}/followers", {"date": date_text, "followers": followers}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field] == [
        csv_problem(tmp_path, channel, f"{date_text},{followers}")
    ]
    assert not FollowerSnapshot.objects.exists()


@pytest.mark.parametrize(
    ("date_text", "followers"),
    [("2025-03-03", "12,000"), ("03.03.2025", "12.000"), ("2025/03/03", "12 000")],
)
def test_a_typed_count_is_read_as_the_csv_reads_it(client_as, channel, date_text, followers):
    response = client_as("owner").post(
        f"/capture/channels/{channel.pk}/followers", {"date": date_text, "followers": followers}
    )
    assert response.status_code == 302
    assert list(FollowerSnapshot.objects.values_list("date", "followers")) == [
        (date(2025, 3, 3), 12000)
    ]


@pytest.mark.parametrize("persona", ["sales", "viewer"])
def test_a_reader_cannot_record_or_remove_a_count(client_as, channel, persona):
    snapshot = do_record_snapshot(channel, day=date(2025, 3, 3), followers=1, actor=None)
    client = client_as(persona)
    assert (
        client.post(
            f"/capture/channels/{channel.pk}/followers", {"date": "2025-03-04", "followers": "2"}
        ).status_code
        == 403
    )
    assert (
        client.post(f"/capture/channels/{channel.pk}/followers/{snapshot.pk}/delete").status_code
        == 403
    )
    assert FollowerSnapshot.objects.count() == 1


def test_an_owner_removes_a_count_typed_by_mistake(client_as, channel):
    snapshot = do_record_snapshot(channel, day=date(2025, 3, 3), followers=1, actor=None)
    response = client_as("owner").post(
        f"/capture/channels/{channel.pk}/followers/{snapshot.pk}/delete"
    )
    assert response.status_code == 302
    assert not FollowerSnapshot.objects.exists()


def test_the_import_page_lists_bad_rows_and_imports_nothing(client_as, channel, tmp_path):
    path = write_csv(tmp_path, "date,followers\n2025-03-03,100\n2025-13-01,110\n")
    with path.open("rb") as upload:
        response = client_as("marketer").post(
            f"/capture/channels/{channel.pk}/followers/import", {"file": upload}
        )
    assert response.status_code == 400
    page = response.content.decode()
    assert "nothing was imported" in page and "invalid_date" in page
    assert not FollowerSnapshot.objects.exists()


def test_the_import_page_imports_a_good_file(client_as, channel, tmp_path):
    path = write_csv(tmp_path, "date,followers\n2025-03-03,100\n2025-03-10,110\n")
    client = client_as("marketer")
    with path.open("rb") as upload:
        response = client.post(f"/capture/channels/{channel.pk}/followers/import", {"file": upload})
    assert response.status_code == 302
    assert FollowerSnapshot.objects.count() == 2
    page = client.get(response["Location"]).content.decode()
    assert "Imported 2 follower counts (2 new days, 0 replaced)." in page


def test_one_imported_count_is_told_in_the_singular(client_as, channel, tmp_path):
    path = write_csv(tmp_path, "date,followers\n2025-03-03,100\n")
    with path.open("rb") as upload:
        response = client_as("marketer").post(
            f"/capture/channels/{channel.pk}/followers/import", {"file": upload}, follow=True
        )
    assert "Imported 1 follower count (1 new day, 0 replaced)." in response.content.decode()


def test_the_example_on_the_import_page_imports_as_shown(client_as, channel, tmp_path):
    page = client_as("marketer").get(f"/capture/channels/{channel.pk}/followers/import")
    shown = re.search(r"<code>(date,followers<br>.*?)</code>", page.content.decode()).group(1)
    example = html.unescape(shown).replace("<br>", "\n") + "\n"

    with write_csv(tmp_path, example).open("rb") as upload:
        response = client_as("marketer").post(
            f"/capture/channels/{channel.pk}/followers/import", {"file": upload}
        )

    assert response.status_code == 302
    assert list(FollowerSnapshot.objects.values_list("followers", flat=True)) == [12840, 13015]


def queries_for(client: Client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


def test_the_channel_list_costs_the_same_queries_whatever_the_number_of_channels(
    client_as, personas
):
    client = client_as("viewer")
    do_create_channel(personas.workspace, platform="x", handle="one", actor=None)
    few = queries_for(client, "/capture/channels/")
    for n in range(5):
        channel = do_create_channel(
            personas.workspace, platform="instagram", handle=f"acme{n}", actor=None
        )
        do_record_snapshot(channel, day=date(2025, 3, 3), followers=n, actor=None)
    assert queries_for(client, "/capture/channels/") == few
