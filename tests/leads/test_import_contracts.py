"""`leadbase import` end to end, as docs/cli.md and docs/cleaning.md promise it: a dry run counts
what the import would do and writes nothing; unknown columns and a lead source column become
custom fields; the phone region falls back from the row's country to `--region`, the
workspace's region, then LEADBASE_DEFAULT_REGION."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command

from leadbase.leads.models import Consent, ImportJob, Lead, Source, Touch
from tests.factories import make_lead

pytestmark = pytest.mark.django_db

FILE = """Name,Email,Phone,Company,Country,Lead Source,Shoe size
Ada Lovelace,ada@analytical.org,+44 20 7946 0018,Analytical Engines,UK,Trade fair,38
Grace Hopper,grace@navy.mil,(202) 555-0143,US Navy,United States,Webinar,
Grace Hopper,GRACE@navy.mil,,,,,
Alan Turing,alan@bletchley.org,+44 1908 640404,Bletchley Park,GB,,
N/A,x@example.org,,,,,
Fay Wong,fay@example.org,not a phone,,,,
"""
# created: Ada, Grace, Fay; merged: Grace's second row, Alan (already a lead);
# rejected: row 5 (invalid_name); warning: Fay's phone.


def write(tmp_path: Path, text: str, name: str = "leads.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def run(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import", str(path), "--workspace", "acme", "--workers", "1", *args, stdout=out)
    return out.getvalue()


def run_json(path: Path, *args: str) -> dict:
    report = json.loads(run(path, "--json", *args))
    del report["elapsed_s"]
    return report


def snapshot() -> tuple:
    return (
        list(Lead.objects.order_by("id").values()),
        list(Touch.objects.order_by("id").values()),
        list(Consent.objects.order_by("id").values()),
        ImportJob.objects.count(),
    )


# --- --dry-run ----------------------------------------------------------------------------------


def test_a_dry_run_reports_what_the_import_then_does_and_writes_nothing(personas, tmp_path):
    alan = make_lead(personas.workspace, name="Alan Turing", email="alan@bletchley.org")
    path = write(tmp_path, FILE)
    before = snapshot()

    dry = run_json(path, "--dry-run")

    assert snapshot() == before  # not a lead, touch or consent; Alan not filled in either
    assert {k: dry[k] for k in ("rows", "created", "merged", "rejected", "warnings")} == {
        "rows": 6, "created": 3, "merged": 2, "rejected": 1, "warnings": 1}

    real = run_json(path)

    assert real == dry
    assert Lead.objects.count() == 1 + real["created"]
    assert Touch.objects.filter(kind="imported").count() == real["created"]
    alan.refresh_from_db()
    assert alan.phone_e164 == "+441908640404" and alan.company == "Bletchley Park"


def test_a_dry_run_prints_the_same_summary_as_the_import_and_says_nothing_was_written(
    personas, tmp_path
):
    make_lead(personas.workspace, name="Alan Turing", email="alan@bletchley.org")
    path = write(tmp_path, FILE)

    dry = run(path, "--dry-run")
    assert not Lead.objects.exclude(email_key="alan@bletchley.org").exists()
    real = run(path)

    def counts(text: str) -> list[str]:
        # The one table row of numbers: created, merged, rejected, warnings.
        lines = text.splitlines()
        rows = [re.findall(r"\d+", line) for line in lines if re.fullmatch(r"[\s│\d]+", line)]
        assert len(rows) == 1, text
        return rows[0]

    def rejected_rows(text: str) -> list[str]:
        return [line for line in text.splitlines() if "invalid_name" in line]

    assert "Dry run (nothing written): 6 rows" in dry and "Dry run" not in real
    assert "Import: 6 rows" in real
    assert counts(dry) == counts(real) == ["3", "2", "1", "1"]
    assert rejected_rows(dry) == rejected_rows(real) and len(rejected_rows(real)) == 1


def test_a_dry_run_of_a_file_already_imported_reports_merges_and_changes_nothing(
    personas, tmp_path
):
    path = write(tmp_path, FILE)
    first = run_json(path)
    before = snapshot()

    dry = run_json(path, "--dry-run")

    assert snapshot() == before
    again = first["created"] + first["merged"]
    assert (dry["created"], dry["merged"], dry["rejected"]) == (0, again, 1)
    assert run_json(path) == dry


# --- custom fields and the lead source ----------------------------------------------------------


def test_unknown_columns_become_custom_fields_named_by_their_header(personas, tmp_path):
    text = (
        "Name,Email,Shoe size,T-Shirt Größe,Email 2\n"
        "Ada Lovelace,ada@analytical.org,38,M,ada@home.example\n"
        "Grace Hopper,grace@navy.mil,,L,\n"
    )
    report = run_json(write(tmp_path, text))

    assert report["created"] == 2
    # Lowercase ASCII words joined by "_"; a second email column is kept, not dropped.
    assert Lead.objects.get(email_key="ada@analytical.org").custom == {
        "shoe_size": "38", "t_shirt_grosse": "M", "email_2": "ada@home.example"}
    assert Lead.objects.get(email_key="grace@navy.mil").custom == {"t_shirt_grosse": "L"}


def test_a_lead_source_column_is_kept_as_the_custom_field_lead_source(personas, tmp_path):
    run_json(write(tmp_path, FILE, name="fair-2026.csv"))

    ada = Lead.objects.get(email_key="ada@analytical.org")
    assert ada.custom == {"lead_source": "Trade fair", "shoe_size": "38"}
    # The lead's own source is the import, with the file name.
    assert (ada.source, ada.source_ref) == (Source.IMPORT, "fair-2026.csv")
    grace = Lead.objects.get(email_key="grace@navy.mil")
    assert grace.custom == {"lead_source": "Webinar"}
    assert grace.source == Source.IMPORT
    assert Lead.objects.get(email_key="fay@example.org").custom == {}


# --- the phone region ---------------------------------------------------------------------------

NATIONAL = "Name,Phone,Country\nHans Meier,030 901820,\nRosa Parks,(202) 555-0143,\n"
# 030 901820 is a number only in Germany; (202) 555-0143 is one in the US and in Germany.


def test_leadbase_default_region_reads_national_numbers_of_rows_without_a_country(
    personas, tmp_path, settings
):
    settings.DEFAULT_REGION = "DE"
    assert personas.workspace.default_region == ""

    report = run_json(write(tmp_path, NATIONAL))

    assert (report["created"], report["rejected"]) == (2, 0), report["rejections"]
    assert Lead.objects.get(name="Hans Meier").phone_e164 == "+4930901820"
    assert Lead.objects.get(name="Rosa Parks").phone_e164 == "+492025550143"


def test_the_import_region_wins_over_leadbase_default_region(personas, tmp_path, settings):
    settings.DEFAULT_REGION = "DE"

    report = run_json(write(tmp_path, NATIONAL), "--region", "US")

    assert Lead.objects.get(name="Rosa Parks").phone_e164 == "+12025550143"
    # Not a number in the US: refused rather than read as German.
    assert report["rejections"] == [
        {"row": 1, "code": "invalid_phone", "message": report["rejections"][0]["message"]}]
    assert not Lead.objects.filter(name="Hans Meier").exists()


def test_the_workspace_region_wins_over_leadbase_default_region(personas, tmp_path, settings):
    settings.DEFAULT_REGION = "US"
    personas.workspace.default_region = "DE"
    personas.workspace.save(update_fields=["default_region"])

    run_json(write(tmp_path, NATIONAL))

    assert Lead.objects.get(name="Hans Meier").phone_e164 == "+4930901820"
    assert Lead.objects.get(name="Rosa Parks").phone_e164 == "+492025550143"


def test_the_row_country_wins_over_leadbase_default_region(personas, tmp_path, settings):
    settings.DEFAULT_REGION = "DE"
    text = "Name,Phone,Country\nRosa Parks,(202) 555-0143,US\nHans Meier,030 901820,\n"

    run_json(write(tmp_path, text))

    assert Lead.objects.get(name="Rosa Parks").phone_e164 == "+12025550143"
    assert Lead.objects.get(name="Hans Meier").phone_e164 == "+4930901820"


# --- a fresh install -----------------------------------------------------------------------------


def test_on_a_fresh_install_import_and_export_use_the_default_workspace(tmp_path):
    from leadbase.accounts.models import Workspace

    assert not Workspace.objects.exists()
    out = io.StringIO()
    call_command("import", str(write(tmp_path, FILE)), "--workers", "1", "--json", stdout=out)
    exported = tmp_path / "out.csv"
    call_command("export", "-o", str(exported))

    default = Workspace.objects.get()
    assert default.slug == "default"
    assert json.loads(out.getvalue())["created"] == Lead.objects.filter(workspace=default).count() == 4
    assert exported.read_text(encoding="utf-8").count("\n") == 1 + 4
    call_command("export", "-o", str(exported))  # a second command finds it, creates no other
    assert Workspace.objects.count() == 1


def test_the_summary_lists_the_first_refused_rows_and_counts_them_all(personas, tmp_path):
    rows = "".join(f"N/A,x{i}@example.org\n" for i in range(25))
    path = write(tmp_path, "Name,Email\n" + rows)

    out = io.StringIO()
    call_command("import", str(path), "--workspace", "acme", "--workers", "1", stdout=out)
    report = run_json(path)

    summary = out.getvalue()
    assert "Rejected rows (first 20)" in summary
    assert summary.count("invalid_name") == 20
    assert report["rejected"] == len(report["rejections"]) == 25  # --json lists every one
