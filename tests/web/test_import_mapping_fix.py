"""The import mapping page: what a marketer changes there (a column's field, a column ignored or
kept as a custom field, the phone region) is what the import does."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadbase.leads.models import ImportJob, ImportStatus, Lead, Source

pytestmark = pytest.mark.django_db

FILE = (
    b"Full name,E-Mail,Mobile,Organization,Shoe size,Lead source\n"
    b"Hans Meier,hans@brauerei.example,030 901820,Chief Brewer,44,Trade fair\n"
    b"Grace Hopper,grace@navy.example,+1 415 555 2671,Rear Admiral,38,Webinar\n"
)
# "030 901820" is a number only in Germany; the +1 number is the same in every region.


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    settings.DEFAULT_REGION = "US"


def upload_and_open_mapping(client):
    response = client.post(
        reverse("web:import_new"),
        {"file": SimpleUploadedFile("fair.csv", FILE, content_type="text/csv")},
    )
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "web:import_mapping", kwargs={"pk": job.pk}
    )
    form = client.get(response.url).context["form"]
    guessed = {form.fields[f].label: form[f].value() for f in form.columns}
    # What the page proposes, so the changes below are changes.
    assert guessed == {
        "Full name": "name",
        "E-Mail": "email",
        "Mobile": "phone",
        "Organization": "company",
        "Shoe size": "custom:shoe_size",
        "Lead source": "source",
    }
    assert form["region"].value() == "US"
    return job, {f: form[f].value() or "" for f in form.columns}


def start(client, job, data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the import task runs on commit
        response = client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), data)
    assert response.status_code == 302 and response.url == reverse(
        "web:import", kwargs={"pk": job.pk}
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    return job


def test_a_column_moved_to_another_field_a_column_ignored_and_the_region_are_imported_as_chosen(
    personas, client_as, django_capture_on_commit_callbacks
):
    client = client_as("marketer")
    job, data = upload_and_open_mapping(client)
    data |= {"col_3": "job_title", "col_4": "", "region": "DE"}

    job = start(client, job, data, django_capture_on_commit_callbacks)

    assert job.mapping == ["name", "email", "phone", "job_title", "", "source"]
    assert job.region == "DE"
    assert (job.rows, job.created, job.rejected, job.warnings) == (2, 2, 0, 0)
    hans = Lead.objects.get(email_key="hans@brauerei.example")
    assert (hans.job_title, hans.company) == ("Chief Brewer", "")
    assert hans.phone_e164 == "+4930901820" and not hans.problems
    assert hans.custom == {"lead_source": "Trade fair"}  # no shoe size: that column was ignored
    assert (hans.source, hans.source_ref) == (Source.IMPORT, "fair.csv")
    grace = Lead.objects.get(email_key="grace@navy.example")
    assert (grace.job_title, grace.company) == ("Rear Admiral", "")
    assert grace.phone_e164 == "+14155552671"
    assert grace.custom == {"lead_source": "Webinar"}


def test_the_guessed_mapping_and_region_left_as_they_are_read_the_national_number_in_the_us(
    personas, client_as, django_capture_on_commit_callbacks
):
    client = client_as("marketer")
    job, data = upload_and_open_mapping(client)

    job = start(client, job, data | {"region": "US"}, django_capture_on_commit_callbacks)

    # Kept for its email, with the number set aside as a problem: no such number in the US.
    assert (job.created, job.warnings) == (2, 1)
    hans = Lead.objects.get(email_key="hans@brauerei.example")
    assert hans.phone_e164 is None and "phone" in hans.problems
    assert (hans.company, hans.job_title) == ("Chief Brewer", "")
    assert hans.custom == {"shoe_size": "44", "lead_source": "Trade fair"}


def test_a_guessed_field_can_be_kept_as_a_custom_field_and_a_field_ignored(
    personas, client_as, django_capture_on_commit_callbacks
):
    client = client_as("owner")
    job, data = upload_and_open_mapping(client)
    form = client.get(reverse("web:import_mapping", kwargs={"pk": job.pk})).context["form"]
    assert ("custom:organization", "Custom field “organization”") in form.fields["col_3"].choices
    data |= {"col_3": "custom:organization", "col_5": "", "region": "DE"}

    job = start(client, job, data, django_capture_on_commit_callbacks)

    hans = Lead.objects.get(email_key="hans@brauerei.example")
    assert hans.company == "" and hans.phone_e164 == "+4930901820"
    assert hans.custom == {"organization": "Chief Brewer", "shoe_size": "44"}  # no lead_source


def test_a_second_column_with_the_same_header_is_kept_as_the_custom_field_the_page_proposes(
    personas, client_as, django_capture_on_commit_callbacks
):
    # The guess for the second "Phone" was custom:phone, which the page did not offer: it
    # showed "ignore", and the import dropped the column.
    client = client_as("marketer")
    client.post(reverse("web:import_new"), {"file": SimpleUploadedFile(
        "two.csv", b"Name,Email,Phone,Phone\nAda Lovelace,ada@example.org,+44 20 7946 0958,+44 20 7946 0000\n",
        content_type="text/csv")})
    job = ImportJob.objects.get()
    form = client.get(reverse("web:import_mapping", kwargs={"pk": job.pk})).context["form"]
    shown = {f: form[f].value() for f in form.columns}

    assert list(shown.values()) == ["name", "email", "phone", "custom:phone"]
    assert "custom:phone" in dict(form.fields["col_3"].choices)
    job = start(client, job, {**shown, "region": "GB"}, django_capture_on_commit_callbacks)
    assert Lead.objects.get().custom["phone"] == "+44 20 7946 0000"
