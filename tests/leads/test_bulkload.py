"""Bulk-load mode: a first big import on SQLite builds the secondary lead indexes afterwards."""

from __future__ import annotations

import pytest
from django.db import connection

from leadbase.leads import bulkload, importer
from leadbase.leads.importer import import_file
from leadbase.leads.models import Lead

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
