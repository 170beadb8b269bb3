"""Bulk-load mode: a first big import on SQLite builds the secondary lead indexes afterwards."""

from __future__ import annotations

import os
import sqlite3

import pytest
from django.db import connection

from leadbase.leads import bulkload, importer
from leadbase.leads.importer import import_file
from leadbase.leads.models import Lead
from leadbase.sqlite_backend.sorting import SORT_CHUNK_KB, sorting_in_chunks

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="bulk-load mode is SQLite only"),
]

CSV = "Name,Email\n" + "".join(f"Person Number{chr(65 + i % 26)}{chr(65 + i // 26)},p{i}@example.org\n" for i in range(30))


def lead_indexes() -> set[str]:
    with connection.cursor() as cur:
        names = set(connection.introspection.get_constraints(cur, Lead._meta.db_table))
    return names & {index.name for index in Lead._meta.indexes}


def test_a_first_big_import_drops_the_list_indexes_and_rebuilds_them(personas, tmp_path, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_FILE_BYTES", 0)
    path = tmp_path / "big.csv"
    path.write_text(CSV)
    seen_during = []
    real = importer.apply_batch

    def spy(ctx, items, keys=None):
        seen_during.append(lead_indexes())
        return real(ctx, items, keys)

    monkeypatch.setattr(importer, "apply_batch", spy)
    report = import_file(personas.workspace, path, workers=1)
    assert report.created == 30
    assert seen_during[0] == set(bulkload.IDENTITY_INDEXES)
    assert lead_indexes() == {index.name for index in Lead._meta.indexes}


def test_indexes_left_missing_by_a_killed_import_are_recreated(personas):
    with bulkload.deferred_indexes(True):
        pass  # dropped, then rebuilt on the way out
    with connection.cursor() as cur:  # what a SIGKILL in the middle leaves behind
        for index in Lead._meta.indexes:
            if index.name not in bulkload.IDENTITY_INDEXES:
                cur.execute(f'DROP INDEX "{index.name}"')
    assert sorted(bulkload.ensure_lead_indexes()) == sorted(
        index.name for index in Lead._meta.indexes if index.name not in bulkload.IDENTITY_INDEXES)
    assert bulkload.ensure_lead_indexes() == []


def test_a_table_with_leads_keeps_its_indexes(personas, tmp_path, monkeypatch):
    monkeypatch.setattr(bulkload, "MIN_FILE_BYTES", 0)
    monkeypatch.setattr(bulkload, "MAX_EXISTING_LEADS", 0)
    path = tmp_path / "big.csv"
    path.write_text(CSV)
    import_file(personas.workspace, path, workers=1)
    assert not bulkload.should_defer_indexes(path)


@pytest.fixture
def file_db(tmp_path, django_db_blocker, monkeypatch):
    """bulkload working on a database file configured as `leadbase.settings` does (the suite's
    own database is in memory, where the threaded sort does not apply), with the lead table."""
    from django.db.utils import ConnectionHandler

    from leadbase.settings import _database

    settings = _database(f"sqlite:///{tmp_path / 'db.sqlite3'}")
    fixed = {"workspace_id": 1, "custom": "{}", "problems": "{}", "alternates": "[]", "last_touch": "{}",
             "stage": "new", "score": 0, "created_at": "2026-01-01", "updated_at": "2026-01-01"}
    fixed |= {f.column: "" for f in Lead._meta.concrete_fields if f.get_internal_type() == "CharField"
              and not f.null and f.column not in fixed}
    varying = ("name", "name_key", "family_key", "email", "email_key")
    for column in varying:
        fixed.pop(column, None)
    columns = ", ".join(f'"{c}"' for c in (*fixed, *varying))
    values = ", ".join(["%s"] * (len(fixed) + len(varying)))
    with django_db_blocker.unblock():
        conn = ConnectionHandler({"default": settings}).create_connection("default")
        with conn.schema_editor() as editor:
            editor.create_model(Lead)
        with conn.cursor() as cur:
            cur.execute("PRAGMA foreign_keys = OFF")  # only the lead table is here
            cur.executemany(
                f'INSERT INTO "{Lead._meta.db_table}" ({columns}) VALUES ({values})',
                [(*fixed.values(), f"Person {i}", f"person {i:05}", f"{i:05}", f"p{i}@example.org",
                  f"p{i}@example.org") for i in range(20_000, 0, -1)],
            )
        monkeypatch.setattr(bulkload, "connection", conn)
        try:
            yield conn
        finally:
            conn.close()


#: How the rebuild's connection sorts: chunks spilled to temporary files, a helper per core
#: (as many as this SQLite allows: it caps the number at its build's limit, 8 by default).
THREADED = {
    "cache_size": -SORT_CHUNK_KB,
    "temp_store": 1,
    "threads": sqlite3.connect(":memory:").execute(f"PRAGMA threads = {os.cpu_count()}").fetchone()[0],
}


def pragmas(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        values = {}
        for name in ("cache_size", "temp_store", "threads"):
            cur.execute(f"PRAGMA {name}")
            values[name] = cur.fetchone()[0]
    return values


def test_the_rebuild_sorts_in_threads_and_puts_the_connection_settings_back(file_db, monkeypatch):
    configured = pragmas(file_db)
    assert configured["temp_store"] == 2  # memory, as leadbase.settings asks: no helper threads
    with sorting_in_chunks(file_db):
        assert pragmas(file_db) == THREADED
    assert pragmas(file_db) == configured

    with file_db.cursor() as cur:
        for index in Lead._meta.indexes:
            cur.execute(f'DROP INDEX "{index.name}"')
    during = []
    real = bulkload._create
    monkeypatch.setattr(bulkload, "_create", lambda indexes: (during.append(pragmas(file_db)), real(indexes)))
    assert sorted(bulkload.ensure_lead_indexes()) == sorted(index.name for index in Lead._meta.indexes)
    assert during == [THREADED]
    assert pragmas(file_db) == configured
    with file_db.cursor() as cur:  # the index is whole and in order
        cur.execute(f'SELECT family_key FROM "{Lead._meta.db_table}" INDEXED BY lead_ws_family '
                    "WHERE workspace_id = 1 ORDER BY family_key LIMIT 3")
        assert [row[0] for row in cur.fetchall()] == ["00001", "00002", "00003"]
        cur.execute("PRAGMA integrity_check")
        assert cur.fetchone() == ("ok",)


def test_when_the_temporary_files_cannot_be_written_the_indexes_are_sorted_in_memory(file_db, monkeypatch):
    from django.db import OperationalError

    configured = pragmas(file_db)
    with file_db.cursor() as cur:
        cur.execute('DROP INDEX "lead_ws_name"')
    calls = []
    real = bulkload._create

    def create(indexes):
        calls.append(pragmas(file_db))
        if len(calls) == 1:
            raise OperationalError("database or disk is full")  # what SQLite says then
        real(indexes)

    monkeypatch.setattr(bulkload, "_create", create)
    assert bulkload.ensure_lead_indexes() == ["lead_ws_name"]
    assert calls == [THREADED, configured]
    assert "lead_ws_name" in set(file_db.introspection.get_constraints(file_db.cursor(), Lead._meta.db_table))
