"""Bulk-load mode for a first big import on SQLite: secondary lead indexes built after the load.

Keeping nine B-trees up to date row by row is most of the cost of inserting a million leads;
building an index once over the finished table is several times cheaper. So when a large file is
imported into a (nearly) empty lead table, the indexes that only serve the web list, filters,
sorts and reports are dropped for the duration and rebuilt at the end. The identity indexes
(email key, phone) stay: every batch looks its contacts up in them.

Crash safety: the indexes are rebuilt in a ``finally``; if the process is killed outright,
``ensure_lead_indexes`` — run by every ``leadbase`` command and by the worker before an import —
recreates whatever is missing. Only SQLite uses this mode; PostgreSQL keeps its indexes.

The rebuild sorts on every core (``leadbase.sqlite_backend.sorting``): SQLite sorts an index's
keys in helper threads only when the sort runs in chunks spilled to temporary files, and the
import's connection keeps temporary data in memory, which turns those threads off. At the end
of an import the cleaning processes are done, so the second core is free. Measured on 2 cores,
the eight indexes of 925,000 leads: 6.2–7.2 s sorted in one thread, 4.5–5.5 s sorted in chunks
on both cores.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection
from django.db.models import Index

from leadbase.leads.models import Lead
from leadbase.sqlite_backend.sorting import run_sorting_in_chunks

IDENTITY_INDEXES = frozenset({"lead_ws_email", "lead_ws_phone"})
MIN_FILE_BYTES = 20 * 1024 * 1024  # roughly 150,000 rows of a typical export
MAX_EXISTING_LEADS = 10_000


def _deferrable() -> list[Index]:
    return [index for index in Lead._meta.indexes if index.name not in IDENTITY_INDEXES]


def should_defer_indexes(path: str | os.PathLike[str]) -> bool:
    """A big file into a (nearly) empty lead table, on SQLite."""
    if connection.vendor != "sqlite" or os.path.getsize(path) < MIN_FILE_BYTES:
        return False
    with connection.cursor() as cur:
        cur.execute(
            f'SELECT COUNT(*) FROM (SELECT 1 FROM "{Lead._meta.db_table}" LIMIT {MAX_EXISTING_LEADS + 1})'
        )
        return cur.fetchone()[0] <= MAX_EXISTING_LEADS


def ensure_lead_indexes() -> list[str]:
    """Create every Lead index that is missing; return their names (normally none)."""
    with connection.cursor() as cur:
        existing = set(connection.introspection.get_constraints(cur, Lead._meta.db_table))
    missing = [index for index in Lead._meta.indexes if index.name not in existing]
    if missing:
        # On failure (no room for the temporary files, say) the indexes are made again sorting
        # in memory; IF NOT EXISTS skips those made already.
        run_sorting_in_chunks(connection, lambda: _create(missing))
    return [index.name for index in missing]


def _create(indexes: list[Index]) -> None:
    with connection.cursor() as cur:
        for index in indexes:
            cur.execute(_create_sql(index))


def _create_sql(index: Index) -> str:
    """CREATE INDEX for one of Lead's plain field indexes. Written out rather than through the
    schema editor, whose context SQLite refuses inside a transaction (an index needs none)."""
    columns = []
    for name in index.fields:
        descending = name.startswith("-")
        column = Lead._meta.get_field(name.lstrip("-")).column
        columns.append(f'"{column}"' + (" DESC" if descending else ""))
    return f'CREATE INDEX IF NOT EXISTS "{index.name}" ON "{Lead._meta.db_table}" ({", ".join(columns)})'


@contextmanager
def deferred_indexes(enabled: bool) -> Iterator[bool]:
    """Drop the deferrable lead indexes while the block runs (when ``enabled``), then rebuild."""
    if not enabled:
        yield False
        return
    with connection.cursor() as cur:
        for index in _deferrable():
            cur.execute(f'DROP INDEX IF EXISTS "{index.name}"')
    try:
        yield True
    finally:
        ensure_lead_indexes()
