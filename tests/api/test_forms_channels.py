"""Forms and submissions (read), channels and follower counts."""

from __future__ import annotations

import base64
import json
from datetime import date, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.utils import timezone

from leadbase.capture.models import Channel, FollowerSnapshot, Form, Submission

pytestmark = pytest.mark.django_db


def make_form(workspace, slug="contact", **overrides):
    values = {
        "name": slug.title(),
        "fields": [
            {"key": "name", "label": "Name", "type": "text", "required": True},
            {"key": "email", "label": "Email", "type": "email", "required": True},
        ],
        "consents": [{"purpose": "email_marketing", "text": "Send me news", "required": False}],
    }
    return Form.objects.create(workspace=workspace, slug=slug, **(values | overrides))


def make_submission(form, status="processed", at=None):
    return Submission.objects.create(
        workspace=form.workspace,
        form=form,
        received_at=at or timezone.now(),
        payload={"name": "Ada"},
        status=status,
    )


def test_it_lists_the_workspace_forms_with_fields_and_consents(api_as, personas):
    make_form(personas.workspace)
    make_form(personas.other_workspace, slug="theirs")
    body = api_as("viewer").get("/forms").json()
    assert [f["slug"] for f in body["items"]] == ["contact"]
    form = body["items"][0]
    assert [f["key"] for f in form["fields"]] == ["name", "email"]
    assert form["consents"][0]["text"] == "Send me news"
    assert form["submit_url"].endswith("/f/contact")


def test_a_form_of_another_workspace_is_not_found(api_as, personas):
    theirs = make_form(personas.other_workspace, slug="theirs")
    assert api_as("owner").get(f"/forms/{theirs.pk}").status_code == 404
    mine = make_form(personas.workspace)
    assert api_as("owner").get(f"/forms/{mine.pk}").json()["slug"] == "contact"


def test_archived_forms_and_channels_are_left_out_of_the_lists(api_as, personas):
    archived = make_form(personas.workspace, slug="old", archived_at=timezone.now())
    make_form(personas.workspace)
    Channel.objects.create(
        workspace=personas.workspace, platform="x", handle="old", archived_at=timezone.now()
    )
    client = api_as("viewer")

    assert [f["slug"] for f in client.get("/forms").json()["items"]] == ["contact"]
    assert client.get(f"/forms/{archived.pk}").json()["archived_at"] is not None
    assert client.get("/channels").json()["items"] == []


def test_submissions_page_newest_first_filtered_by_form_and_status(api_as, personas):
    contact, other = make_form(personas.workspace), make_form(personas.workspace, slug="demo")
    start = timezone.now() - timedelta(hours=1)
    ids = [make_submission(contact, at=start + timedelta(minutes=i)).pk for i in range(5)]
    make_submission(contact, status="spam")
    make_submission(other)
    client = api_as("marketer")
    seen, cursor = [], None
    while True:
        params = {"form": contact.pk, "status": "processed", "limit": 2} | (
            {"cursor": cursor} if cursor else {}
        )
        body = client.get("/submissions", params).json()
        seen += [s["id"] for s in body["items"]]
        if not (cursor := body["next_cursor"]):
            break
    assert seen == ids[::-1]


@pytest.mark.parametrize(
    "form", ["9223372036854775808", "99999999999999999999999", "0", "-1", "-9223372036854775809"]
)
def test_a_form_id_no_row_can_have_is_a_422_naming_form(api_as, personas, form):
    make_submission(make_form(personas.workspace))
    response = api_as("owner").get("/submissions", {"form": form})
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == "form"


def test_the_largest_form_id_is_searched_and_finds_nothing(api_as, personas):
    make_submission(make_form(personas.workspace))
    response = api_as("owner").get("/submissions", {"form": "9223372036854775807"})
    assert (response.status_code, response.json()["items"]) == (200, [])


@pytest.mark.parametrize(
    "values",
    [
        ["9999-12-31T23:59:59-23:59", 5],
        ["0001-01-01T00:00:00+14:00", 5],
        ["2025-01-01T00:00:00", 5],
        ["2025-01-01", 5],
        ["2025-01-01T00:00:00+00:00", 9223372036854775808],
        ["2025-01-01T00:00:00+00:00", -1],
        ["2025-01-01T00:00:00+00:00", True],
        ["2025-01-01T00:00:00+00:00", 5.0],
        [20250101, 5],
        ["2025-01-01T00:00:00+00:00"],
    ],
)
def test_an_edited_submissions_cursor_gets_a_422(api_as, personas, values):
    make_submission(make_form(personas.workspace))
    cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    response = api_as("owner").get("/submissions", {"cursor": cursor})
    assert response.status_code == 422
    assert [(e["field"], e["code"]) for e in response.json()["detail"]] == [
        ("cursor", "invalid_cursor")
    ]


def test_a_cursor_with_another_utc_offset_pages_from_the_same_moment(api_as, personas):
    contact = make_form(personas.workspace)
    start = timezone.now().replace(microsecond=0) - timedelta(hours=1)
    ids = [make_submission(contact, at=start + timedelta(minutes=i)).pk for i in range(3)]
    moment = (start + timedelta(minutes=2)).astimezone(dt_timezone(timedelta(hours=-5)))
    cursor = base64.urlsafe_b64encode(json.dumps([moment.isoformat(), ids[2]]).encode()).decode()
    body = api_as("owner").get("/submissions", {"cursor": cursor}).json()
    assert [s["id"] for s in body["items"]] == ids[1::-1]


def test_submissions_are_for_roles_that_see_every_lead(api_as, personas):
    make_submission(make_form(personas.workspace))
    assert api_as("sales").get("/submissions").status_code == 403
    assert len(api_as("viewer").get("/submissions").json()["items"]) == 1


def test_submissions_of_another_workspace_stay_hidden(api_as, personas):
    theirs = make_submission(make_form(personas.other_workspace, slug="theirs"))
    assert api_as("owner").get("/submissions").json()["items"] == []
    assert api_as("owner").get(f"/submissions/{theirs.pk}").status_code == 404


def test_it_adds_a_channel_and_refuses_the_same_handle_twice(api_as, personas):
    client = api_as("marketer")
    response = client.post(
        "/channels",
        {"platform": "instagram", "handle": "@acme", "url": "https://instagram.com/acme"},
    )
    assert response.status_code == 201, response.json()
    assert response.json()["handle"] == "acme"
    again = client.post("/channels", {"platform": "instagram", "handle": "ACME"})
    assert again.status_code == 409
    assert again.json()["detail"][0]["field"] == "handle"
    assert Channel.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "myspace", "handle": "acme"}, "platform"),
        ({"platform": "x", "handle": "   "}, "handle"),
        ({"platform": "x", "handle": "acme", "url": "javascript:alert(1)"}, "url"),
        ({"platform": "x", "handle": "acme", "followers": 3}, "followers"),
        ({"platform": "x", "handle": "<script>alert(1)</script>"}, "handle"),
        ({"platform": "x", "handle": "acme", "url": "https://x.com/acme<script>"}, "url"),
    ],
)
def test_a_bad_channel_is_refused_naming_the_field(api_as, body, field):
    response = api_as("owner").post("/channels", body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["field"] == field
    assert not Channel.objects.exists()


def test_only_owners_and_marketers_add_channels(api_as):
    assert api_as("sales").post("/channels", {"platform": "x", "handle": "acme"}).status_code == 403


def test_it_records_follower_counts_and_shows_the_latest(api_as, personas):
    channel = Channel.objects.create(workspace=personas.workspace, platform="x", handle="acme")
    client = api_as("owner")
    today = timezone.localdate()
    for day, followers in ((today - timedelta(days=7), 100), (today, 150), (today, 155)):
        response = client.post(
            f"/channels/{channel.pk}/snapshots", {"date": day.isoformat(), "followers": followers}
        )
        assert response.status_code == 201, response.json()
    assert FollowerSnapshot.objects.count() == 2, "the second count of a day replaces the first"
    listed = client.get("/channels").json()["items"][0]
    assert (listed["followers"], listed["followers_on"]) == (155, today.isoformat())
    detail = client.get(f"/channels/{channel.pk}").json()
    assert [s["followers"] for s in detail["snapshots"]] == [100, 155]


def test_a_follower_count_in_the_future_or_negative_is_refused(api_as, personas):
    channel = Channel.objects.create(workspace=personas.workspace, platform="x", handle="acme")
    client = api_as("owner")
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    future = client.post(f"/channels/{channel.pk}/snapshots", {"date": tomorrow, "followers": 1})
    assert (future.status_code, future.json()["detail"][0]["field"]) == (422, "date")
    negative = client.post(
        f"/channels/{channel.pk}/snapshots", {"date": date.today().isoformat(), "followers": -1}
    )
    assert (negative.status_code, negative.json()["detail"][0]["field"]) == (422, "followers")


def test_a_channel_of_another_workspace_is_not_found(api_as, personas):
    theirs = Channel.objects.create(workspace=personas.other_workspace, platform="x", handle="them")
    client = api_as("owner")
    assert client.get(f"/channels/{theirs.pk}").status_code == 404
    snapshot = client.post(
        f"/channels/{theirs.pk}/snapshots", {"date": date.today().isoformat(), "followers": 1}
    )
    assert snapshot.status_code == 404
    assert client.get("/channels").json()["items"] == []


@pytest.mark.parametrize("kind", ["forms", "submissions", "channels", "leads"])
@pytest.mark.parametrize("pk", ["9223372036854775807", "9223372036854775808", "1" * 30])
def test_an_id_in_a_path_too_large_for_any_row_is_a_404(api_as, kind, pk):
    response = api_as("owner").get(f"/{kind}/{pk}")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_follower_count_for_a_channel_id_too_large_for_any_row_is_a_404(api_as):
    response = api_as("owner").post(
        f"/channels/{'9' * 30}/snapshots", {"date": date.today().isoformat(), "followers": 1}
    )
    assert response.status_code == 404
