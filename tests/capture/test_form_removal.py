"""Removing a form: deleted when it has no submissions, archived (journal kept) when it has;
restoring it; the public routes afterwards; who may do it."""

from __future__ import annotations

import json

import pytest
from django.db.models import RestrictedError
from django.test import Client

from leadbase.capture.actions import (
    do_remove_form,
    do_replay_submission,
    do_restore_form,
    do_update_form,
)
from leadbase.capture.channels import LinkSpec, do_create_link
from leadbase.capture.demo import load_demo_forms
from leadbase.capture.errors import FormConfigError
from leadbase.capture.models import Form, LandingPage, Removal, Submission
from leadbase.leads.models import Lead

pytestmark = pytest.mark.django_db

ADA = {"name": "Ada Lovelace", "email": "ada@example.org"}


@pytest.fixture
def form(personas) -> Form:
    """The demo form `contact` with its landing page /p/contact and no submissions."""
    return load_demo_forms(personas.workspace, personas.owner)


def submit(slug: str = "contact", body: dict | None = None):
    return Client().post(f"/f/{slug}", json.dumps(body or ADA), content_type="application/json")


@pytest.fixture
def used_form(form) -> Form:
    """The form after one accepted submission (a journal row and a lead)."""
    assert submit().status_code in (200, 201)
    assert Submission.objects.filter(form=form, status="processed").count() == 1
    return form


# --- actions ---------------------------------------------------------------------------------


def test_a_form_without_submissions_is_deleted_with_its_landing_page(personas, form):
    link = do_create_link(
        personas.workspace, LinkSpec(page=form.pages.get()), code="post", actor=None
    )

    assert do_remove_form(form, actor=personas.marketer) == Removal.DELETED

    assert not Form.objects.filter(pk=form.pk).exists()
    assert not LandingPage.objects.filter(form_id=form.pk).exists()
    link.refresh_from_db()
    assert link.page_id is None  # the link now leads nowhere, as the confirmation page said


def test_a_form_with_submissions_is_archived_and_its_journal_and_leads_stay(personas, used_form):
    rows = list(Submission.objects.filter(form=used_form).values_list("pk", "status", "lead_id"))

    assert do_remove_form(used_form, actor=personas.marketer) == Removal.ARCHIVED

    used_form.refresh_from_db()
    assert used_form.archived_at is not None and not used_form.is_published
    assert (
        list(Submission.objects.filter(form=used_form).values_list("pk", "status", "lead_id"))
        == rows
    )
    assert Lead.objects.filter(pk=rows[0][2]).exists()
    assert LandingPage.objects.filter(form=used_form).exists()


def test_a_spam_or_rejected_row_is_history_too(personas, form):
    Submission.objects.create(
        workspace=personas.workspace, form=form, received_at=form.created_at, status="spam"
    )

    assert do_remove_form(form, actor=None) == Removal.ARCHIVED
    assert Submission.objects.filter(form=form).count() == 1


def test_deleting_a_form_can_never_take_its_journal_rows_with_it(used_form):
    LandingPage.objects.filter(form=used_form).delete()

    with pytest.raises(RestrictedError):
        Form.objects.filter(pk=used_form.pk).delete()
    assert Submission.objects.filter(form=used_form).count() == 1


def test_an_archived_form_is_not_removed_twice_nor_changed_until_restored(personas, used_form):
    do_remove_form(used_form, actor=None)

    with pytest.raises(FormConfigError) as twice:
        do_remove_form(used_form, actor=None)
    with pytest.raises(FormConfigError) as edit:
        do_update_form(
            used_form,
            {"name": "Back", "fields": used_form.fields, "is_published": True},
            actor=None,
        )

    assert (twice.value.code, edit.value.code) == ("archived", "archived")
    used_form.refresh_from_db()
    assert (used_form.name, used_form.is_published) == ("Contact", False)


def test_a_restored_form_comes_back_unpublished(personas, used_form):
    do_remove_form(used_form, actor=None)

    do_restore_form(used_form, actor=personas.marketer)

    used_form.refresh_from_db()
    assert (used_form.archived_at, used_form.is_published) == (None, False)
    with pytest.raises(FormConfigError) as again:
        do_restore_form(used_form, actor=None)
    assert again.value.code == "not_archived"


def test_a_failed_row_of_an_archived_form_can_still_be_replayed(personas, form):
    row = Submission.objects.create(
        workspace=personas.workspace,
        form=form,
        received_at=form.created_at,
        payload=ADA,
        status="failed",
        error="OperationalError: database is locked",
    )
    do_remove_form(form, actor=None)

    result = do_replay_submission(row)

    assert result.status == "processed"
    assert Lead.objects.get(pk=result.lead_id).email == "ada@example.org"


# --- public routes afterwards ----------------------------------------------------------------


def test_an_archived_form_answers_like_an_unpublished_one(client, used_form):
    do_remove_form(used_form, actor=None)

    response = submit()

    assert response.status_code == 404
    assert response.json()["code"] == "form_not_found"
    assert client.get("/f/contact/embed.js").status_code == 404
    assert client.get("/p/contact").status_code == 404
    assert Submission.objects.count() == 1  # the refused post wrote nothing


def test_a_deleted_forms_address_is_not_found(client, form):
    do_remove_form(form, actor=None)

    assert submit().status_code == 404
    assert client.get("/p/contact").status_code == 404
    assert not Submission.objects.exists()


# --- pages -----------------------------------------------------------------------------------


def test_the_confirmation_page_says_archive_or_delete_and_changes_nothing(client_as, form):
    client = client_as("marketer")

    empty = client.get(f"/capture/forms/{form.pk}/remove")
    submit()
    used = client.get(f"/capture/forms/{form.pk}/remove")

    assert empty.status_code == used.status_code == 200
    assert b"Delete the form" in empty.content and b"/p/contact" in empty.content
    assert b"Archive the form" in used.content and b"csrfmiddlewaretoken" in used.content
    form.refresh_from_db()
    assert form.archived_at is None and form.is_published


def test_the_confirmation_page_names_the_tracked_links_an_archive_turns_off(client_as, personas, used_form):
    do_create_link(personas.workspace, LinkSpec(page=used_form.pages.get()), code="bio", actor=None)

    page = client_as("marketer").get(f"/capture/forms/{used_form.pk}/remove")

    assert b"Archive the form" in page.content
    assert b"count no clicks until the form is restored" in page.content and b"/r/bio" in page.content


@pytest.mark.parametrize(("persona", "removed"), [("owner", True), ("marketer", True)])
def test_owners_and_marketers_archive_a_used_form_from_its_page(
    client_as, used_form, persona, removed
):
    response = client_as(persona).post(f"/capture/forms/{used_form.pk}/remove")

    assert response.status_code == 302 and response["Location"] == "/capture/forms/"
    used_form.refresh_from_db()
    assert (used_form.archived_at is not None) is removed


@pytest.mark.parametrize(
    ("persona", "status"), [("sales", 403), ("viewer", 403), ("outsider", 404)]
)
def test_others_can_neither_remove_nor_restore_a_form(
    client_as, personas, used_form, persona, status
):
    client = client_as(persona)

    assert client.get(f"/capture/forms/{used_form.pk}/remove").status_code == status
    assert client.post(f"/capture/forms/{used_form.pk}/remove").status_code == status
    do_remove_form(used_form, actor=None)
    assert client.post(f"/capture/forms/{used_form.pk}/restore").status_code == status

    used_form.refresh_from_db()
    assert used_form.archived_at is not None


def test_an_anonymous_visitor_is_sent_to_log_in(client_as, form):
    response = client_as("anonymous").post(f"/capture/forms/{form.pk}/remove")

    assert response.status_code == 302 and response["Location"].startswith("/login")
    assert Form.objects.filter(pk=form.pk).exists()


def test_removal_needs_a_csrf_token(personas, form):
    client = Client(enforce_csrf_checks=True)
    client.force_login(personas.owner)

    assert client.post(f"/capture/forms/{form.pk}/remove").status_code == 403
    assert Form.objects.filter(pk=form.pk).exists()


def test_restore_is_post_only_and_an_unknown_form_is_not_found(client_as, used_form):
    client = client_as("owner")
    do_remove_form(used_form, actor=None)

    assert client.get(f"/capture/forms/{used_form.pk}/restore").status_code == 405
    assert client.post(f"/capture/forms/{used_form.pk + 999}/restore").status_code == 404
    assert client.post(f"/capture/forms/{used_form.pk + 999}/remove").status_code == 404
    used_form.refresh_from_db()
    assert used_form.archived_at is not None


def test_archived_forms_leave_the_list_and_have_their_own(client_as, used_form):
    client = client_as("marketer")
    client.post(f"/capture/forms/{used_form.pk}/remove")

    listed = client.get("/capture/forms/").content.decode()
    archived = client.get("/capture/forms/?archived=1").content.decode()

    assert "/f/contact" not in listed and "Archived forms (1)" in listed
    assert "/f/contact" in archived and f"/capture/forms/{used_form.pk}/restore" in archived


def test_a_marketer_restores_a_form_from_the_archived_list(client_as, used_form):
    client = client_as("marketer")
    client.post(f"/capture/forms/{used_form.pk}/remove")

    response = client.post(f"/capture/forms/{used_form.pk}/restore")

    assert response["Location"] == f"/capture/forms/{used_form.pk}/"
    assert "/f/contact" in client.get("/capture/forms/").content.decode()
    assert submit().status_code == 404  # unpublished until someone publishes it
