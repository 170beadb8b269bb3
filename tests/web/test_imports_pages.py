"""The import pages: upload → mapping and preview → progress → result and report download."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from leadbase.leads.models import ImportJob, ImportStatus, Lead

pytestmark = pytest.mark.django_db

GOOD = (
    "Full name;E-Mail;Mobile;Organization;Shoe size\n"
    "Grace Hopper;grace@navy.example;+1 415 555 2671;Navy;38\n"
    "Alan Turing;not-an-email;+1 650 253 0000;Bletchley;44\n"
    "N/A;;;;\n"
).encode("cp1252")


@pytest.fixture(autouse=True)
def uploads(settings, tmp_path):
    settings.UPLOAD_DIR = tmp_path / "uploads"
    return settings.UPLOAD_DIR


def upload(client, name: str, content: bytes):
    return client.post(
        reverse("web:import_new"),
        {"file": SimpleUploadedFile(name, content, content_type="text/csv")},
    )


def test_the_upload_page_explains_what_to_send(personas, client_as):
    body = client_as("marketer").get(reverse("web:import_new")).content.decode()
    assert 'type="file"' in body and 'enctype="multipart/form-data"' in body and "MB" in body


def test_a_csv_goes_through_mapping_and_progress_to_the_report(
    personas, client_as, django_capture_on_commit_callbacks
):
    client = client_as("marketer")
    response = upload(client, "leads.csv", GOOD)
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response.url == reverse(
        "web:import_mapping", kwargs={"pk": job.pk}
    )

    page = client.get(response.url)
    body = page.content.decode()
    assert "Grace Hopper" in body and "grace@navy.example" in body and "Shoe size" in body
    form = page.context["form"]
    assert [form[f].value() for f in form.columns][:4] == ["name", "email", "phone", "company"]
    assert 'name="region"' in body

    data = {f: form[f].value() or "" for f in form.columns} | {"region": "US"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), data)
    assert response.status_code == 302 and response.url == reverse(
        "web:import", kwargs={"pk": job.pk}
    )

    job.refresh_from_db()
    assert job.status == ImportStatus.DONE, job.error
    assert (job.rows, job.created, job.rejected, job.warnings) == (3, 2, 1, 1)
    assert Lead.objects.filter(workspace=personas.workspace).count() == 2

    result = client.get(response.url).content.decode()
    assert "Import finished" in result and "Download report (CSV)" in result
    assert 'hx-trigger="every 1s"' not in result

    report = client.get(reverse("web:import_report", kwargs={"pk": job.pk}))
    assert report["Content-Type"] == "text/csv" and "attachment" in report["Content-Disposition"]
    lines = b"".join(report.streaming_content).decode().splitlines()
    assert lines[0] == "row,outcome,lead_id,code,message"
    assert lines[3].startswith("3,rejected,,invalid_name")


def test_a_running_import_polls_its_progress_partial_every_second(personas, client_as):
    job = ImportJob.objects.create(
        workspace=personas.workspace,
        filename="big.csv",
        path="/nonexistent",
        status=ImportStatus.RUNNING,
        estimated_rows=1000,
        rows=250,
        created=200,
        merged=30,
        rejected=20,
    )
    client = client_as("owner")
    page = client.get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert 'hx-trigger="every 1s"' in page and '<progress max="100" value="25">' in page
    assert '<meta http-equiv="refresh"' in page  # inside <noscript>: no JavaScript, still updates
    partial = client.get(
        reverse("web:import", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert partial.lstrip().startswith('<section id="import-progress"') and "<html" not in partial
    assert "250" in partial

    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.DONE, rows=1000)
    partial = client.get(
        reverse("web:import", kwargs={"pk": job.pk}), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert 'hx-trigger="every 1s"' not in partial and "Import finished" in partial


def test_a_failed_import_shows_its_error(personas, client_as):
    job = ImportJob.objects.create(
        workspace=personas.workspace,
        filename="x.csv",
        path="/x",
        status=ImportStatus.FAILED,
        error="The file stops decoding as UTF-16 at row 17.",
    )
    body = client_as("owner").get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert "The import failed" in body and "UTF-16 at row 17" in body


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("empty.csv", b"", "empty"),
        ("report.pdf", b"%PDF-1.4 binary stuff", "PDF"),
        ("book.xlsx", b"PK\x03\x04 zipped", "Excel"),
    ],
)
def test_a_file_that_cannot_be_imported_gets_a_clear_error_and_creates_nothing(
    personas, client_as, uploads, name, content, message
):
    response = upload(client_as("owner"), name, content)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert not uploads.exists() or not any(uploads.rglob("*.csv"))


def test_a_file_without_usable_columns_says_so_on_the_mapping_page_and_imports_nothing(
    personas, client_as
):
    client = client_as("owner")
    response = upload(client, "notes.csv", b"Colour,Size\nred,4\n")
    page = client.get(response.url)
    assert "No column looks like a name" in page.content.decode()
    job = ImportJob.objects.get()
    response = client.post(response.url, {"col_0": "", "col_1": "", "region": "US"})
    assert (
        response.status_code == 400 and "No column looks like a name" in response.content.decode()
    )
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED and Lead.objects.count() == 0


def test_a_file_over_the_size_limit_is_refused(personas, client_as, settings):
    settings.IMPORT_MAX_UPLOAD_MB = 0
    response = upload(client_as("owner"), "leads.csv", GOOD)
    assert response.status_code == 400 and "larger than 0 MB" in response.content.decode()
    assert ImportJob.objects.count() == 0


def test_a_field_chosen_for_two_columns_is_refused_on_the_mapping_page(personas, client_as):
    client = client_as("owner")
    upload(client, "leads.csv", GOOD)
    job = ImportJob.objects.get()
    data = {
        "col_0": "name",
        "col_1": "email",
        "col_2": "email",
        "col_3": "",
        "col_4": "",
        "region": "US",
    }
    response = client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), data)
    assert response.status_code == 400 and "chosen for two columns" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_a_mapping_without_a_contact_column_is_refused(personas, client_as):
    client = client_as("owner")
    upload(client, "leads.csv", GOOD)
    job = ImportJob.objects.get()
    data = {
        "col_0": "name",
        "col_1": "",
        "col_2": "",
        "col_3": "company",
        "col_4": "",
        "region": "US",
    }
    response = client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), data)
    assert response.status_code == 400 and "email or phone" in response.content.decode()
    job.refresh_from_db()
    assert job.status == ImportStatus.UPLOADED


def test_an_import_that_started_cannot_be_remapped(personas, client_as):
    job = ImportJob.objects.create(
        workspace=personas.workspace, filename="a.csv", path="/a", status=ImportStatus.DONE
    )
    response = client_as("owner").get(reverse("web:import_mapping", kwargs={"pk": job.pk}))
    assert response.status_code == 302 and response.url == reverse(
        "web:import", kwargs={"pk": job.pk}
    )


def test_the_imports_list_shows_past_imports_of_the_workspace_only(personas, client_as):
    ImportJob.objects.create(
        workspace=personas.workspace, filename="mine.csv", path="/a", status=ImportStatus.DONE
    )
    ImportJob.objects.create(workspace=personas.other_workspace, filename="theirs.csv", path="/b")
    body = client_as("marketer").get(reverse("web:imports")).content.decode()
    assert "mine.csv" in body and "theirs.csv" not in body


def test_a_report_that_is_missing_is_a_404(personas, client_as):
    job = ImportJob.objects.create(
        workspace=personas.workspace, filename="a.csv", path="/a", status=ImportStatus.DONE
    )
    assert (
        client_as("owner").get(reverse("web:import_report", kwargs={"pk": job.pk})).status_code
        == 404
    )


def test_the_imports_list_makes_the_same_number_of_queries_for_1_and_6_imports(personas, client_as):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = client_as("owner")

    def count() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(reverse("web:imports")).status_code == 200
        return len(ctx.captured_queries)

    ImportJob.objects.create(
        workspace=personas.workspace, filename="a.csv", path="/a", created_by=personas.owner
    )
    one = count()
    for user in (personas.owner, personas.marketer, None, personas.owner, personas.marketer):
        ImportJob.objects.create(
            workspace=personas.workspace, filename="b.csv", path="/b", created_by=user
        )
    assert count() == one


def run_upload(client, django_capture_on_commit_callbacks) -> ImportJob:
    upload(client, "leads.csv", GOOD)
    job = ImportJob.objects.get()
    form = client.get(reverse("web:import_mapping", kwargs={"pk": job.pk})).context["form"]
    data = {f: form[f].value() or "" for f in form.columns} | {"region": "US"}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), data)
    job.refresh_from_db()
    return job


def test_an_import_that_fails_part_way_keeps_the_report_of_the_rows_it_read(
    personas, client_as, django_capture_on_commit_callbacks, monkeypatch
):
    from leadbase.leads import importer

    real = importer.import_file

    def fails_after_the_file(*args, **kwargs):
        real(*args, **kwargs)
        raise OSError("No space left on device")

    monkeypatch.setattr(importer, "import_file", fails_after_the_file)
    client = client_as("marketer")
    job = run_upload(client, django_capture_on_commit_callbacks)

    assert (job.status, job.error) == (ImportStatus.FAILED, "Unexpected error: No space left on device")
    body = client.get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert "The import failed" in body and "Download report (CSV)" in body
    report = client.get(reverse("web:import_report", kwargs={"pk": job.pk}))
    lines = b"".join(report.streaming_content).decode().splitlines()
    assert lines[0] == "row,outcome,lead_id,code,message" and len(lines) == 4


def test_the_uploaded_file_is_deleted_when_the_import_ends_and_the_report_is_kept(
    personas, client_as, django_capture_on_commit_callbacks, uploads
):
    job = run_upload(client_as("marketer"), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE
    assert [p.name for p in (uploads / str(personas.workspace.pk)).iterdir()] == [Path(job.report_path).name]


def test_a_failed_import_deletes_its_upload_too(
    personas, client_as, django_capture_on_commit_callbacks, monkeypatch, uploads
):
    from leadbase.leads import importer

    def fails(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(importer, "import_file", fails)
    job = run_upload(client_as("marketer"), django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.FAILED
    assert not Path(job.path).exists()


def test_a_report_older_than_the_kept_days_is_deleted_and_the_page_says_so(
    personas, client_as, django_capture_on_commit_callbacks, settings
):
    from leadbase.leads.importer import delete_old_import_files

    settings.IMPORT_FILES_DAYS = 30
    client = client_as("marketer")
    job = run_upload(client, django_capture_on_commit_callbacks)
    page = client.get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert "Download report (CSV)" in page and "It is kept for 30 days." in page

    assert delete_old_import_files(now=job.finished_at + timedelta(days=29)) == 0
    assert Path(job.report_path).exists()
    later = job.finished_at + timedelta(days=30, seconds=1)
    assert delete_old_import_files(now=later) == 1
    assert delete_old_import_files(now=later) == 0  # once
    job.refresh_from_db()
    assert job.files_deleted_at == later and not Path(job.report_path).exists()
    assert (job.rows, job.created, job.status) == (3, 2, ImportStatus.DONE)  # the counts stay

    page = client.get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert "Download report (CSV)" not in page
    assert f"The report was deleted on {later.day} " in page and "LEADBASE_IMPORT_FILES_DAYS" in page
    assert client.get(reverse("web:import_report", kwargs={"pk": job.pk})).status_code == 404


def test_an_upload_never_imported_is_deleted_after_the_kept_days_and_marked_failed(
    personas, client_as, settings
):
    from leadbase.leads.importer import delete_old_import_files

    settings.IMPORT_FILES_DAYS = 7
    client = client_as("marketer")
    upload(client, "leads.csv", GOOD)
    job = ImportJob.objects.get()
    assert delete_old_import_files(now=job.created_at + timedelta(days=6)) == 0
    assert delete_old_import_files(now=job.created_at + timedelta(days=8)) == 1
    job.refresh_from_db()
    assert job.status == ImportStatus.FAILED and not Path(job.path).exists()
    assert job.error == "The file was deleted after 7 days without being imported. Upload it again to import it."
    page = client.get(reverse("web:import", kwargs={"pk": job.pk})).content.decode()
    assert "The import failed" in page and "Upload it again" in page
    assert "Leads already written" not in page  # none were: it never started
    mapping = client.post(reverse("web:import_mapping", kwargs={"pk": job.pk}), {})  # a tab left open
    assert mapping.status_code == 302 and mapping.url == reverse("web:import", kwargs={"pk": job.pk})
    assert ImportJob.objects.get().status == ImportStatus.FAILED


def test_with_0_days_import_files_are_kept(personas, client_as, django_capture_on_commit_callbacks, settings):
    from leadbase.leads.importer import delete_old_import_files

    settings.IMPORT_FILES_DAYS = 0
    job = run_upload(client_as("marketer"), django_capture_on_commit_callbacks)
    assert delete_old_import_files(now=job.finished_at + timedelta(days=3650)) == 0
    assert Path(job.report_path).exists()
