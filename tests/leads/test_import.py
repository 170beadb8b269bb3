"""The CSV import: report contract, identity rules across rows and runs, bad input, crash safety."""

from __future__ import annotations

import csv
import io
import json
import marshal
import os
import signal
import sqlite3
import tempfile
import threading
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leadbase.leads import batch, importer
from leadbase.leads.actions import do_add_suppression, do_create_lead
from leadbase.leads.identity import KeyFilter
from leadbase.leads.importer import ImportFileError, import_file
from leadbase.leads.models import Lead, PossibleDuplicate, Touch
from leadbase.lib import columns as cols
from leadbase.lib import csvfile
from leadbase.lib.csvfile import read_rows, sniff
from leadbase.lib.leadrow import Refusal

pytestmark = pytest.mark.django_db(transaction=False)


def write(tmp_path: Path, text: str, name: str = "leads.csv", encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


GOOD = """Name,Email,Phone,Company,Country
Ada Lovelace,ada@analytical.org,+44 20 7946 0018,Analytical Engines,UK
Grace Hopper,grace@navy.mil,(202) 555-0143,US Navy,United States
Alan Turing,ALAN@bletchley.org,,Bletchley Park,GB
"""


def test_it_creates_one_lead_per_good_row_with_normalized_contacts(personas, tmp_path):
    report = import_file(personas.workspace, write(tmp_path, GOOD), workers=1)
    assert (report.rows, report.created, report.merged, report.rejected) == (3, 3, 0, 0)
    ada = Lead.objects.get(email_key="ada@analytical.org")
    assert ada.phone_e164 == "+442079460018"
    assert ada.country == "GB"
    assert (ada.given_name, ada.family_name) == ("Ada", "Lovelace")
    assert Lead.objects.get(name="Grace Hopper").phone_e164 == "+12025550143"
    assert Lead.objects.get(name="Alan Turing").email_key == "alan@bletchley.org"
    assert Touch.objects.filter(kind="imported").count() == 3


def test_reimporting_the_same_file_changes_nothing(personas, tmp_path):
    path = write(tmp_path, GOOD)
    import_file(personas.workspace, path, workers=1)
    before = list(Lead.objects.order_by("id").values())
    touches = Touch.objects.count()
    report = import_file(personas.workspace, path, workers=1)
    assert (report.created, report.merged) == (0, 3)
    assert list(Lead.objects.order_by("id").values()) == before
    assert Touch.objects.count() == touches


def test_a_row_repeating_an_earlier_row_of_the_file_merges_into_it(personas, tmp_path):
    text = GOOD + "Ada  Lovelace,Ada@Analytical.org,,,\nA. Turing,,+44 1908 640404,,GB\nAlan Turing,,+44 1908 640404,Bletchley,GB\n"
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert report.created == 4 and report.merged == 2
    assert Lead.objects.filter(email_key="ada@analytical.org").count() == 1


@pytest.mark.parametrize("workers", [1, 2])
def test_the_report_names_every_rejected_row_with_a_code(personas, tmp_path, workers):
    text = (
        "Name,Email,Phone,Country\n"
        "N/A,someone@example.org,,\n"            # 1 invalid_name
        "Bob Stone,bob@@example.org,,\n"         # 2 invalid_email
        "Carla Diaz,,12,\n"                      # 3 invalid_phone
        "Dan Brown,,,\n"                         # 4 no_contact
        "Eve Adams,eve@example.org,,DE,extra\n"  # 5 malformed_row
        "\n"
        "Fay Wong,fay@example.org,not a phone,\n"  # 6 kept with a warning
    )
    out = io.StringIO()
    report = import_file(personas.workspace, write(tmp_path, text), report_file=out, workers=workers)
    codes = {r["row"]: r["code"] for r in report.rejections}
    assert codes == {1: "invalid_name", 2: "invalid_email", 3: "invalid_phone", 4: "no_contact", 5: "malformed_row"}
    assert all(r["message"] for r in report.rejections)
    assert (report.rows, report.created, report.rejected, report.warnings) == (6, 1, 5, 1)
    lines = list(csv.reader(io.StringIO(out.getvalue())))
    assert lines[0] == ["row", "outcome", "lead_id", "code", "message"]
    assert [line[:2] for line in lines[1:]] == [[str(n), "rejected"] for n in range(1, 6)] + [["6", "created"]]
    fay = Lead.objects.get(email_key="fay@example.org")
    assert lines[6][2] == str(fay.pk) and lines[6][3] == "invalid_phone"
    assert fay.phone == "not a phone" and "phone" in fay.problems


def test_an_invalid_email_with_a_valid_phone_keeps_the_lead_with_the_phone(personas, tmp_path):
    text = "Name,Email,Phone,Country\nGus Grey,gus at example,+49 30 901820,\n"
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert report.created == 1 and report.warnings == 1
    gus = Lead.objects.get(name="Gus Grey")
    assert gus.email_key is None and gus.email == "gus at example" and gus.phone_e164 == "+4930901820"


def test_a_shared_role_mailbox_keeps_two_people_and_flags_them(personas, tmp_path):
    text = "Name,Email\nJohn Smith,info@smith-bakery.com\nMaria Gonzalez,info@smith-bakery.com\nJohn Smith,INFO@smith-bakery.com\n"
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert (report.created, report.merged) == (2, 1)
    pair = PossibleDuplicate.objects.get()
    assert pair.reason == "shared_mailbox"


def test_a_family_business_mailbox_keeps_relatives_apart_and_flags_them(personas, tmp_path):
    # Like a shared phone line (May and Peter Parker), a shared info@ of a family business
    # must not turn Mary into another spelling of John.
    text = (
        "Name,Email\n"
        "John Smith,info@smith-bakery.com\n"
        "Mary Smith,info@smith-bakery.com\n"
        "J. Smith,info@smith-bakery.com\n"
    )
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert (report.created, report.merged) == (2, 1)
    assert sorted(Lead.objects.values_list("name", flat=True)) == ["John Smith", "Mary Smith"]
    assert PossibleDuplicate.objects.get().reason == "shared_mailbox"


def test_a_shared_phone_line_does_not_merge_two_different_people(personas, tmp_path):
    text = "Name,Phone,Country\nPeter Parker,+1 212 555 0101,US\nMay Parker,+1 212 555 0101,US\nPete Parker,212-555-0101,US\n"
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert (report.created, report.merged) == (2, 1)


def test_the_country_column_decides_the_phone_region(personas, tmp_path):
    text = "Name,Phone,Country\nHans Meier,030 901820,Germany\nHeidi Huber,030 901820,GERMANY\nJean Dupont,01 23 45 67 89,fr\n"
    import_file(personas.workspace, write(tmp_path, text), region="US", workers=1)
    assert Lead.objects.get(name="Hans Meier").phone_e164 == "+4930901820"
    assert Lead.objects.get(name="Jean Dupont").phone_e164 == "+33123456789"


def test_a_dry_run_reports_but_writes_nothing(personas, tmp_path):
    report = import_file(personas.workspace, write(tmp_path, GOOD), dry_run=True, workers=1)
    assert report.created == 3
    assert not Lead.objects.exists() and not Touch.objects.exists()


def test_a_dry_run_report_gives_no_id_to_leads_it_did_not_create(personas, tmp_path):
    known = import_file(personas.workspace, write(tmp_path, GOOD), workers=1)
    ada = Lead.objects.get(email_key="ada@analytical.org")
    text = GOOD + "Marie Curie,marie@radium.org,,,\nMarie Curie,marie@radium.org,+33 1 40 79 45 00,,FR\n"
    out = io.StringIO()

    report = import_file(
        personas.workspace, write(tmp_path, text), dry_run=True, report_file=out, workers=1
    )

    assert known.created == 3 and (report.created, report.merged) == (1, 4)
    lines = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    # Existing leads keep their real id; Marie (and the row merging into her) would be new.
    assert lines[0][:3] == ["1", "merged", str(ada.pk)]
    assert [line[:3] for line in lines[3:]] == [["4", "created", ""], ["5", "merged", ""]]
    assert Lead.objects.count() == 3


def test_a_file_that_stops_decoding_mid_way_keeps_the_committed_rows_and_says_so(
    personas, tmp_path, monkeypatch
):
    monkeypatch.setattr(importer, "BATCH_ROWS", 1000)
    monkeypatch.setattr(importer, "BATCHES_PER_COMMIT", 2)  # transactions of 2,000 rows

    def name(i: int) -> str:
        return "Person " + "".join(chr(97 + (i // 26**k) % 26) for k in range(3)).capitalize()

    # Long enough that the sniffer's sample ends before the bad bytes, as in a real file.
    body = "Name\tEmail\n" + "".join(f"{name(i)}\tp{i}@example.org\n" for i in range(3000))
    path = tmp_path / "leads.txt"
    path.write_bytes(body.encode("utf-16") + b"\x00\xd8")  # a lone high surrogate at the end
    out = io.StringIO()

    with pytest.raises(ImportFileError) as caught:
        import_file(personas.workspace, path, report_file=out, workers=1)

    assert caught.value.code == "bad_encoding"
    assert "The first 2000 rows were imported and none after them" in caught.value.message
    assert Lead.objects.count() == 2000
    lines = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert [line[0] for line in lines] == [str(n) for n in range(1, 2001)]  # none rolled back


def test_a_suppressed_contact_is_refused(personas, tmp_path):
    do_add_suppression(personas.workspace, "email", "ada@analytical.org", "erased")
    report = import_file(personas.workspace, write(tmp_path, GOOD), workers=1)
    assert report.rejections == [{"row": 1, "code": "suppressed", "message": report.rejections[0]["message"]}]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "not_csv"),
        (b"Colour,Size\nred,L\n", "no_usable_columns"),
    ],
)
def test_a_file_that_cannot_be_imported_gets_a_clear_error_and_changes_nothing(personas, tmp_path, content, code):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    with pytest.raises(ImportFileError) as caught:
        import_file(personas.workspace, path, workers=1)
    assert caught.value.code == code and caught.value.message
    assert not Lead.objects.exists()


@pytest.mark.parametrize("crash_on, kept", [(3, 20), (2, 0)])
def test_an_import_killed_mid_file_loses_only_the_transaction_in_flight_and_a_rerun_completes_it(
    personas, tmp_path, monkeypatch, crash_on, kept
):
    rows = "".join(f"Person Number{chr(65 + i % 26)}{chr(65 + i // 26)},p{i}@example.org\n" for i in range(25))
    path = write(tmp_path, "Name,Email\n" + rows)
    monkeypatch.setattr(importer, "BATCH_ROWS", 10)
    monkeypatch.setattr(importer, "BATCHES_PER_COMMIT", 2)  # transactions: rows 1-20, 21-25
    real = importer.apply_batch
    calls = {"n": 0}

    def crash(ctx, items, keys=None):
        calls["n"] += 1
        if calls["n"] == crash_on:
            real(ctx, items, keys)  # written, then the process dies before the commit
            raise KeyboardInterrupt
        return real(ctx, items, keys)

    monkeypatch.setattr(importer, "apply_batch", crash)
    with pytest.raises(KeyboardInterrupt):
        import_file(personas.workspace, path, workers=1)
    assert Lead.objects.count() == kept  # whole transactions only: nothing of the one in flight
    monkeypatch.setattr(importer, "apply_batch", real)
    report = import_file(personas.workspace, path, workers=1)
    assert (report.created, report.merged) == (25 - kept, kept)
    assert Lead.objects.count() == 25


def lookups(queries) -> str:
    """The identity lookups among captured queries: SELECTs on leads by email key or phone."""
    return "\n".join(
        q["sql"] for q in queries if q["sql"].startswith("SELECT") and '"email_key" IN' in q["sql"]
    )


def test_an_import_looks_up_only_the_contacts_a_lead_may_have(personas, tmp_path):
    do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@analytical.org"}, actor=personas.owner)
    with CaptureQueriesContext(connection) as queries:
        report = import_file(personas.workspace, write(tmp_path, GOOD), workers=1)
    assert (report.created, report.merged) == (2, 1)
    assert "ada@analytical.org" in lookups(queries)
    # On no lead: never looked up on SQLite. PostgreSQL has no filter (nothing tells it there
    # that another connection wrote), so it looks every contact up.
    assert ("grace@navy.mil" in lookups(queries)) == (connection.vendor == "postgresql")


def test_an_import_into_a_big_workspace_looks_up_every_contact(personas, tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "KEY_FILTER_MAX_LEADS", 0)
    do_create_lead(personas.workspace, {"name": "Ada Lovelace", "email": "ada@analytical.org"}, actor=personas.owner)
    with CaptureQueriesContext(connection) as queries:
        import_file(personas.workspace, write(tmp_path, GOOD), workers=1)
    assert "grace@navy.mil" in lookups(queries)


def test_an_import_sees_a_lead_written_by_another_connection_between_its_transactions(
    personas, tmp_path, monkeypatch
):
    rows = "Ada Lovelace,ada@analytical.org\nGrace Hopper,grace@navy.mil\nKatherine Johnson,kj@nasa.gov\n"
    path = write(tmp_path, "Name,Email\n" + rows)
    monkeypatch.setattr(importer, "BATCH_ROWS", 2)
    monkeypatch.setattr(importer, "BATCHES_PER_COMMIT", 1)  # transactions: rows 1-2, row 3
    real_apply, real_version = importer.apply_batch, importer._Keys._data_version
    state = {"other_commits": 0}

    def apply_then_someone_else_writes(ctx, items, keys=None):
        outcomes = real_apply(ctx, items, keys)
        if state["other_commits"] == 0:
            # Stands for a form post committed by another process once this transaction ends.
            do_create_lead(personas.workspace, {"name": "Katherine Johnson", "email": "kj@nasa.gov"}, actor=None)
            state["other_commits"] = 1
        return outcomes

    monkeypatch.setattr(importer, "apply_batch", apply_then_someone_else_writes)
    # The same connection wrote it here, so SQLite's counter of other connections' commits is
    # moved by hand, as it moves when another process commits.
    monkeypatch.setattr(importer._Keys, "_data_version", staticmethod(lambda cur: real_version(cur) + state["other_commits"]))
    report = import_file(personas.workspace, path, workers=1)
    assert (report.created, report.merged) == (2, 1)
    assert Lead.objects.filter(email_key="kj@nasa.gov").count() == 1


def test_sqlite_tells_a_connection_when_another_one_committed(tmp_path):
    """What the import's key filter relies on to know it is still complete."""
    path = tmp_path / "db.sqlite3"
    mine, other = sqlite3.connect(path), sqlite3.connect(path)
    mine.execute("CREATE TABLE t (x)")
    mine.commit()
    before = mine.execute("PRAGMA data_version").fetchone()[0]
    mine.execute("INSERT INTO t VALUES (1)")
    mine.commit()
    assert mine.execute("PRAGMA data_version").fetchone()[0] == before  # its own commits: no
    other.execute("INSERT INTO t VALUES (2)")
    other.commit()
    assert mine.execute("PRAGMA data_version").fetchone()[0] != before


KEYS = st.lists(st.text(min_size=1), unique=True, max_size=50)


@given(KEYS, KEYS)
def test_the_key_filter_never_forgets_a_key(added, taken):
    known = KeyFilter()
    known.add(added)
    maybe = known.take(taken)
    assert set(added) & set(taken) <= set(maybe)  # given before: always "maybe"
    everything = added + [key for key in taken if key not in added]
    assert known.take(everything) == everything  # taken ones are remembered too


def test_the_key_filter_lets_few_unknown_keys_through():
    known = KeyFilter()
    known.add(f"person{i}@example.org" for i in range(20_000))
    strangers = [f"stranger{i}@example.org" for i in range(20_000)]
    assert len(known.take(strangers)) < 200
    assert known.take(strangers) == strangers  # and then they are known


def test_the_command_prints_the_json_report_and_writes_the_row_report(personas, tmp_path, capsys):
    path = write(tmp_path, GOOD + "N/A,x@example.org,,,\n")
    out = tmp_path / "report.csv"
    call_command("import", str(path), "--workspace", "acme", "--json", "--report", str(out), "--workers", "1")
    report = json.loads(capsys.readouterr().out)
    assert {k: report[k] for k in ("rows", "created", "merged", "rejected")} == {
        "rows": 4, "created": 3, "merged": 0, "rejected": 1}
    assert report["rejections"][0]["row"] == 4 and report["rejections"][0]["code"] == "invalid_name"
    assert isinstance(report["elapsed_s"], float)
    assert out.read_text().splitlines()[0] == "row,outcome,lead_id,code,message"


def test_the_command_refuses_an_unknown_workspace(personas, tmp_path):
    with pytest.raises(CommandError, match="no workspace"):
        call_command("import", str(write(tmp_path, GOOD)), "--workspace", "nope")


@pytest.mark.parametrize("region", ["ZZ", "de1", "Atlantis"])
def test_the_command_refuses_a_region_that_is_not_a_country_and_writes_nothing(
    personas, tmp_path, region
):
    # An unknown region must not silently refuse every number written without +.
    text = "Name,Phone\nHans Meier,030 1234567\n"
    with pytest.raises(CommandError, match="--region"):
        call_command("import", str(write(tmp_path, text)), "--workspace", "acme", "--region", region)
    assert not Lead.objects.exists()


@pytest.mark.parametrize(
    ("region", "phone", "e164"),
    [
        ("de", "030 1234567", "+49301234567"),
        ("Germany", "030 1234567", "+49301234567"),
        ("UK", "020 7946 0958", "+442079460958"),
    ],
)
def test_the_command_reads_the_region_like_a_country_column(
    personas, tmp_path, capsys, region, phone, e164
):
    text = f"Name,Phone\nHans Meier,{phone}\n"
    call_command(
        "import", str(write(tmp_path, text)), "--workspace", "acme", "--region", region, "--json",
        "--workers", "1",
    )
    assert json.loads(capsys.readouterr().out)["created"] == 1
    assert Lead.objects.get().phone_e164 == e164


def test_a_report_file_that_cannot_be_written_is_a_clear_error_and_nothing_is_imported(
    personas, tmp_path
):
    target = tmp_path / "missing-folder" / "report.csv"
    with pytest.raises(CommandError, match="Cannot write .*missing-folder"):
        call_command("import", str(write(tmp_path, GOOD)), "--workspace", "acme", "--report", str(target))
    assert not Lead.objects.exists()


def test_a_scanner_export_with_a_title_line_imports_from_its_header(personas, tmp_path, capsys):
    text = "Leads scanned at Trade Fair 2026\n\n" + GOOD + "N/A,x@example.org,,,\n"
    out = tmp_path / "report.csv"
    call_command(
        "import", str(write(tmp_path, text)), "--workspace", "acme", "--json", "--report", str(out),
        "--workers", "1",
    )
    report = json.loads(capsys.readouterr().out)
    assert (report["rows"], report["created"], report["rejected"]) == (4, 3, 1)
    assert report["rejections"][0]["row"] == 4
    assert Lead.objects.filter(email_key="ada@analytical.org").exists()


def test_a_later_row_that_fills_a_blank_is_told_in_the_timeline(personas, tmp_path):
    text = "Name,Email,Phone,Country\nRosa Parks,rosa@example.org,,\nRosa Parks,rosa@example.org,+1 202 555 0143,US\n"
    report = import_file(personas.workspace, write(tmp_path, text), workers=1)
    assert (report.created, report.merged) == (1, 1)
    rosa = Lead.objects.get()
    assert rosa.phone_e164 == "+12025550143"
    merge = Touch.objects.get(lead=rosa, kind="merged")
    assert merge.data["row"] == 2 and "phone" in merge.data["filled"]


def test_constants_written_into_an_insert_are_quoted_and_limited_to_ids_and_codes():
    assert batch._sql_literal(None) == "NULL"
    assert batch._sql_literal(42) == "42"
    with connection.cursor() as cur:
        cur.execute(f"SELECT {batch._sql_literal(chr(39) + 'x' + chr(39))}")
        assert cur.fetchone()[0] == "'x'"
    for value in (1.5, True, b"x", {"a": 1}):
        with pytest.raises(TypeError):
            batch._sql_literal(value)


def test_a_batch_cleaned_in_a_worker_process_comes_back_as_cleaned_here(tmp_path):
    """The cleaners send their batches marshalled: the same candidates and refusals arrive."""
    text = (
        "Name,Email,Phone,Company,Country,Notes\n"
        "Ada Lovelace,ada@analytical.org,+44 20 7946 0018,Analytical Engines,UK,met at a fair\n"
        "N/A,x@example.org,,,,\n"  # refused name
        "Bo Berg,bo@@example.org,+46 8 123 456 78,Berg AB,SE,\n"  # bad email kept aside
        "Ann Lind,,,,,\n"  # no contact
        "Eve Stone,eve@example.org,,Acme,DE,a,b\n"  # one cell too many, not empty: malformed
        "José Núñez,jose@example.org,,,ES,\n"
    )
    path = write(tmp_path, text)
    info = sniff(path)
    rows = list(read_rows(path, info))
    mapping = cols.guess_mapping(info.header)

    here = importer.clean_batch((rows, mapping, "US"))
    there = importer.unpack_cleaned(importer.clean_packed(marshal.dumps(rows), mapping, "US"))

    assert there == here
    assert [type(c) for _, c in there] == [type(c) for _, c in here]
    outcomes = [(c.code,) if type(c) is Refusal else (c.name, sorted(c.problems), sorted(c.custom)) for _, c in here]
    assert outcomes == [
        ("Ada Lovelace", [], ["notes"]), ("invalid_name",), ("Bo Berg", ["email"], []), ("no_contact",),
        ("malformed_row",), ("José Núñez", [], []),
    ]


# Records a cut between blocks can fall inside: line breaks within quoted values (LF and CRLF),
# an escaped quote, blank and delimiter-only records, wrong cell counts, multi-byte
# characters, a value opened and never closed, and no line break after the last record.
TRICKY = (
    "Name,Email,Notes\r\n"
    "Ada Lovelace,ada@analytical.org,\"first line\nsecond line\"\r\n"
    "\r\n"
    ",,\n"
    "Zoë Ünal,zoe@example.org,\"she said \"\"hi\"\"\r\nthen left\"\n"
    "Bob Stone,bob@example.org,too,many,cells\n"
    "Carla Diaz,carla@example.org,\"\n\n\"\n"
    "Dan Brown,dan@example.org,\n"
    "Eve Adams,eve@example.org,,,\n"
    "Ada Lovelace,ada@analytical.org,again\n"
    "Fay Wong,fay@example.org,\"never closed\nGus Grant,gus@example.org,"
)


def dry_report(workspace, path, workers) -> list[list[str]]:
    out = io.StringIO()
    import_file(workspace, path, dry_run=True, report_file=out, workers=workers)
    return list(csv.reader(io.StringIO(out.getvalue())))


@pytest.mark.parametrize("workers", [1, 2])
@pytest.mark.parametrize("block_bytes", [1, 7, 40, 1024 * 1024])
def test_a_file_parsed_in_blocks_reads_exactly_like_one_stream(
    personas, tmp_path, monkeypatch, workers, block_bytes
):
    path = write(tmp_path, TRICKY)
    with monkeypatch.context() as one_stream:
        one_stream.setattr(importer, "_cleaned_blocks", lambda *args: None)
        expected = dry_report(personas.workspace, path, 1)
    outcomes = [line[1] for line in expected[1:]]
    assert outcomes == ["created", "created", "rejected", "created", "created", "created", "merged", "created"]
    monkeypatch.setattr(csvfile, "BLOCK_BYTES", block_bytes)
    assert dry_report(personas.workspace, path, workers) == expected


@given(st.lists(st.tuples(st.sampled_from(["Ann Lee", "Bo Ek", ""]), st.text("a\"\n\r,é", max_size=6)), max_size=8),
       st.integers(1, 30))
def test_any_file_parsed_in_blocks_reads_like_one_stream(rows, block_bytes):
    text = "Name,Notes\n" + "".join(
        f'{name},"{notes.replace(chr(34), chr(34) * 2)}"\n' if i % 2 else f"{name},{notes}\n"
        for i, (name, notes) in enumerate(rows)
    )
    data = text.encode()
    path = Path(tempfile.mkdtemp()) / "leads.csv"
    path.write_bytes(data)
    info = csvfile.CsvInfo(encoding="utf-8", delimiter=",", header=["Name", "Notes"])
    try:
        expected = list(read_rows(path, info))
    except csvfile.CsvError:
        expected = []
    blocks = list(csvfile.read_blocks(path, block_bytes))
    assert b"".join(blocks) == data
    fmt = csvfile.block_format(blocks[0], info)
    assert fmt is not None

    def parse(data: bytes, first: bool, last: bool = False) -> list | None:
        return csvfile.parse_block(data, fmt, first=first, last=last)

    results = ((block, index == 0, parse(block, index == 0)) for index, block in enumerate(blocks))
    got: list = []
    for rows_ in csvfile.joined_blocks(results, parse, None):
        base = got[-1][0] if got else 0
        got += [(base + number, cells, problem) for number, cells, problem in rows_]
    assert got == expected


PEOPLE = st.tuples(
    st.sampled_from(["Ann Lee", "Anne Lee", "Bo Ek", "Cy Dorn"]),
    st.sampled_from(["", "ann@example.org", "info@example.org", "bo@example.org"]),
    st.sampled_from(["", "+4930901820", "+14155550123"]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(PEOPLE, min_size=1, max_size=12))
def test_rows_the_key_filter_lets_through_unlooked_up_end_as_when_every_row_is_looked_up(
    personas, tmp_path, monkeypatch, people
):
    """The filter's shortcut (a row with contacts no lead and no other row has is a new person,
    not matched against anything) changes no outcome: same report as looking every row up."""
    do_create_lead(personas.workspace, {"name": "Ann Lee", "email": "ann@example.org"}, actor=personas.owner)
    path = write(tmp_path, "Name,Email,Phone\n" + "".join(f"{n},{e},{p}\n" for n, e, p in people))
    monkeypatch.setattr(importer, "BATCH_ROWS", 4)  # duplicates within and across batches
    filtered = dry_report(personas.workspace, path, 1)
    with monkeypatch.context() as everything:
        everything.setattr(importer._Keys, "current", lambda self: None)
        looked_up = dry_report(personas.workspace, path, 1)
    assert filtered == looked_up
    Lead.objects.all().delete()


def test_each_created_lead_has_its_imported_touch_with_its_file_row(personas, tmp_path):
    text = (
        "Name,Email\n"
        "Ann Lee,ann@example.org\n"  # 1 created
        "N/A,x@example.org\n"        # 2 rejected
        "Bo Ek,bo@example.org\n"     # 3 created
        "Ann Lee,ann@example.org\n"  # 4 merged into row 1 (nothing new: no touch)
        "Cy Dorn,cy@example.org\n"   # 5 created
    )
    out = io.StringIO()
    import_file(personas.workspace, write(tmp_path, text), report_file=out, workers=1)
    created = {int(line[0]): int(line[2]) for line in list(csv.reader(io.StringIO(out.getvalue())))[1:]
               if line[1] == "created"}
    assert sorted(created) == [1, 3, 5]
    touches = Touch.objects.filter(kind="imported").order_by("id")
    assert [(t.lead_id, t.data) for t in touches] == [
        (lead_id, {"file": "leads.csv", "row": row}) for row, lead_id in sorted(created.items())
    ]
    assert {t.actor_label for t in touches} == {"import of leads.csv"}


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write-ahead log")
def test_an_import_lets_the_write_ahead_log_grow_to_64_mb_whatever_the_page_size(db):
    def setting(pragma: str) -> int:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA {pragma}")
            return cur.fetchone()[0]

    before = setting("wal_autocheckpoint")
    with importer._fewer_checkpoints():
        assert setting("wal_autocheckpoint") * setting("page_size") == 64 * 1024 * 1024
    assert setting("wal_autocheckpoint") == before


OPTIONAL = ("company", "job_title", "country", "utm_source", "utm_medium", "utm_campaign", "utm_term",
            "utm_content", "referrer", "favourite_colour")
RECORDS = st.lists(
    st.tuples(
        st.sampled_from(["email", "phone", "both"]),
        st.fixed_dictionaries({}, optional={f: st.sampled_from(["", "Acme", "DE"]) for f in OPTIONAL}),
        st.sampled_from(["", " x1", " ext. 12"]),  # a phone extension, or a value that makes a warning
    ),
    min_size=1, max_size=8,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(RECORDS)
def test_leads_inserted_as_a_batch_store_what_each_stores_made_alone(personas, records):
    """The batch insert writes a column that is blank on every row of the batch into the
    statement instead of binding it: every column ends as when each lead is made on its own."""
    from leadbase.leads.actions import do_create_leads

    rows = []
    for i, (channels, extra, phone_tail) in enumerate(records):
        record = {"name": f"Person {chr(65 + i)}{chr(97 + i)}ski", **extra}
        if channels != "phone":
            record["email"] = f"p{i}@example.org"
        if channels != "email":
            record["phone"] = f"+49 151 2345 67{i:02}{phone_tail}"
        rows.append((i, record, None))
    columns = [f.attname for f in Lead._meta.concrete_fields
               if f.attname not in ("id", "created_at", "updated_at")]

    def stored() -> list[dict]:
        leads = list(Lead.objects.order_by("name").values(*columns, "created_at", "updated_at"))
        assert all(lead.pop("created_at") == lead.pop("updated_at") for lead in leads)
        Lead.objects.all().delete()
        return leads

    together = do_create_leads(personas.workspace, rows, source="import", source_ref="f.csv")
    assert all(result.outcome == "created" for result in together.values())
    as_batch = stored()
    for _, record, _ in rows:
        do_create_lead(personas.workspace, record, actor=None, source="import", source_ref="f.csv")
    assert as_batch == stored()


@pytest.mark.parametrize(
    "mapping",
    [
        ["name", "email", "phone", "company", "", "country"],
        ["name", "email", "phone", "company", f"{cols.CUSTOM_PREFIX}badge", "country"],  # a custom field
        ["first_name", "last_name", "email", "", "", ""],
    ],
)
def test_a_batch_makes_the_records_its_columns_say_whatever_the_row(mapping):
    """The fast path by position makes the record ``_record`` makes, for any row it can read."""
    rows = [
        ["Ada Lovelace", "ada@analytical.org", "+44 20 7946 0018", "Analytical", "A-17", "UK"],
        ["Bo Berg", "", "+46 8 123 456 78", "", "", "SE"],  # empty cells leave the field out
        ["Eve", "Stone", "eve@example.org"],  # shorter than the mapping
        ["Ann Lind", "ann@example.org", "", "", "", "DE", "an extra cell"],  # longer
    ]
    batch_rows = [(n, cells, "") for n, cells in enumerate(rows, 1)] + [(9, None, "bad quoting")]
    expected = [(n, importer.clean_record(importer._record(cells, mapping), "US")) for n, cells in enumerate(rows, 1)]
    cleaned = importer.clean_batch((batch_rows, mapping, "US"))
    assert cleaned[:-1] == expected
    assert cleaned[-1] == (9, importer.Refusal("malformed_row", "bad quoting"))


def _clean_or_die(n: int) -> bytes:
    """A cleaning job that kills its own process on job 3 (the out-of-memory killer, say)."""
    if n == 3:
        os.kill(os.getpid(), signal.SIGKILL)
    return marshal.dumps(n)


def test_a_cleaning_process_killed_mid_import_stops_the_import_with_a_message_not_for_ever():
    # multiprocessing.Pool replaced the killed cleaner and waited for ever for its batch: the
    # web import stayed at its last figure and its worker lane with it.
    outcome: dict[str, object] = {}

    def run() -> None:
        try:
            outcome["rows"] = list(importer._in_order(_clean_or_die, [(n,) for n in range(8)], workers=2))
        except Exception as exc:  # noqa: BLE001 (what the test looks at)
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout=60)

    assert not thread.is_alive(), "the import waited for the killed cleaner's batch"
    assert isinstance(outcome.get("error"), importer.ImportStopped)
    assert "A cleaning process of the import stopped" in str(outcome["error"])


@pytest.mark.parametrize("workers", ["0", "-2"])
def test_the_command_refuses_fewer_than_one_cleaning_process(personas, tmp_path, workers):
    text = "Name,Email\nHans Meier,hans@example.org\n"
    with pytest.raises(CommandError, match=f"--workers must be at least 1, not {workers}"):
        call_command("import", str(write(tmp_path, text)), "--workspace", "acme", "--workers", workers)
    assert not Lead.objects.exists()
