"""A form's Submissions tab as a marketer uses it: failed rows and their Replay button."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from leadbase.capture.demo import load_demo_forms
from leadbase.capture.models import Submission
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def form(personas):
    return load_demo_forms(personas.workspace, personas.owner)


def failed_row(form, **payload) -> Submission:
    return Submission.objects.create(
        workspace=form.workspace,
        form=form,
        received_at=timezone.now(),
        payload=payload or {"name": "Ada Lovelace", "email": "ada@example.org"},
        status="failed",
        error="OperationalError: database is locked",
    )


def journal(form) -> str:
    return f"/capture/forms/{form.pk}/submissions"


def test_a_failed_row_shows_its_error_and_a_replay_button(client_as, form):
    row = failed_row(form)

    page = client_as("marketer").get(journal(form)).content.decode()

    assert "OperationalError: database is locked" in page
    assert f'name="replay" value="{row.pk}"' in page
    assert "Replay" in page


def test_a_processed_row_has_no_replay_button(client_as, form):
    Submission.objects.create(
        workspace=form.workspace, form=form, received_at=timezone.now(), status="processed"
    )

    assert 'name="replay"' not in client_as("marketer").get(journal(form)).content.decode()


def test_a_marketer_replays_a_failed_row_and_gets_its_lead(client_as, form):
    row = failed_row(form)
    client = client_as("marketer")

    response = client.post(journal(form), {"replay": row.pk, "status": "failed"})

    assert response.status_code == 302
    assert response["Location"] == journal(form) + "?status=failed"
    row.refresh_from_db()
    assert row.status == "processed" and row.lead == Lead.objects.get(email="ada@example.org")
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"Submission #{row.pk} replayed: lead created."
    ]


def test_a_replay_the_lead_rules_refuse_says_why(client_as, form):
    row = failed_row(form, name="Ada Lovelace", email="not-an-email")

    response = client_as("marketer").post(journal(form), {"replay": row.pk})

    row.refresh_from_db()
    assert row.status == "rejected"
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith(f"Submission #{row.pk} replayed and rejected: ")
    assert "not-an-email" in message


def test_a_row_no_longer_failed_is_not_replayed_twice(client_as, form):
    row = failed_row(form)
    client = client_as("marketer")
    client.post(journal(form), {"replay": row.pk})

    response = client.post(journal(form), {"replay": row.pk})

    assert [str(m) for m in get_messages(response.wsgi_request)][-1] == (
        f"Submission #{row.pk} is no longer failed; nothing to replay."
    )
    assert Lead.objects.filter(email="ada@example.org").count() == 1


@pytest.mark.parametrize(
    ("persona", "status"),
    [("owner", 302), ("marketer", 302), ("sales", 403), ("viewer", 403), ("outsider", 404)],
)
def test_only_owners_and_marketers_of_the_workspace_replay(client_as, form, persona, status):
    row = failed_row(form)

    response = client_as(persona).post(journal(form), {"replay": row.pk})

    assert response.status_code == status
    row.refresh_from_db()
    assert row.status == ("processed" if status == 302 else "failed")


@pytest.mark.parametrize("replay", ["", "abc", "²", "999999", "99999999999999999999"])
def test_a_replay_of_no_row_of_this_form_is_not_found(client_as, form, replay):
    assert client_as("marketer").post(journal(form), {"replay": replay}).status_code == 404


def test_a_row_of_another_form_is_not_replayed_through_this_one(client_as, form, personas):
    from leadbase.capture.actions import do_create_form

    other = do_create_form(
        personas.workspace,
        {"name": "Other", "fields": [{"key": "name"}, {"key": "email", "type": "email"}]},
        actor=personas.owner,
    )
    row = failed_row(other)

    assert client_as("marketer").post(journal(form), {"replay": row.pk}).status_code == 404
    row.refresh_from_db()
    assert row.status == "failed"


@pytest.mark.parametrize("before", ["²", "½", "-1", "x", "99999999999999999999"])
def test_a_page_cursor_that_is_no_id_shows_the_newest_page(client_as, form, before):
    failed_row(form)

    response = client_as("marketer").get(journal(form), {"before": before})

    assert response.status_code == 200
    assert len(response.context["rows"]) == 1


def test_an_erased_persons_row_says_so_instead_of_showing_its_blanked_fields(client_as, form):
    row = failed_row(form)
    Submission.objects.filter(pk=row.pk).update(payload={"erased": True}, status="processed")

    page = client_as("marketer").get(journal(form)).content.decode()

    assert "Erased on request" in page and "(fields)" not in page


def test_an_older_page_links_back_to_the_newest(client_as, form):
    rows = [failed_row(form) for _ in range(3)]

    newest = client_as("marketer").get(journal(form), {"status": "failed"}).content.decode()
    older = client_as("marketer").get(journal(form), {"status": "failed", "before": rows[-1].pk}).content.decode()

    assert ">Newest</a>" not in newest
    assert '<a class="button" href="?status=failed">Newest</a>' in older
