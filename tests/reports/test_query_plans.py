"""The report statements' shape on SQLite, read from EXPLAIN QUERY PLAN: what made them slow on a
workspace of 300,000 leads and a million clicks (benchmarks/bench_reports.py) must not return."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leadbase.reports.queries import (
    owned_by_channel_week,
    sources_by_campaign,
    sources_by_channel,
    sources_by_lead_source,
    sources_report,
)

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's query plans"),
]


def plan(sql: str) -> list[tuple[int, int, str]]:
    """(id, parent, detail) rows of the statement's plan."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
        return [(row[0], row[1], row[3]) for row in cursor.fetchall()]


def statements(read) -> list[str]:
    with CaptureQueriesContext(connection) as queries:
        read()
    return [q["sql"] for q in queries.captured_queries if q["sql"].startswith("SELECT")]


@pytest.mark.parametrize("table", [sources_by_channel, sources_by_lead_source, sources_by_campaign])
def test_sources_count_clicks_per_link_on_the_index_never_joining_each_click(personas, table):
    # Joined to its link and grouped by the link's tags, every click went through a temporary
    # B-tree: a quarter of a second per table at a million clicks.
    read = statements(lambda: table(personas.workspace, None))
    click_steps = []
    for sql in read:
        rows = plan(sql)
        details = {id_: detail for id_, _, detail in rows}
        click_steps += [
            (detail, details.get(parent, ""))
            for _, parent, detail in rows
            if "capture_linkclick" in detail or "click_link_at" in detail
        ]
    assert click_steps, "the clicks are counted"
    for detail, _ in click_steps:
        assert "COVERING INDEX click_link_at" in detail, detail
    for sql in read:  # grouped by link on the index, in its order: no sorting of every click
        if "capture_linkclick" in sql:
            assert not [d for _, _, d in plan(sql) if "TEMP B-TREE" in d], plan(sql)


def test_sources_group_journal_rows_on_plain_columns(personas):
    # Grouped on a key worked out per row (the link's channel looked up for each row, the UTM
    # tags read out of each row's JSON), "All time" at 400,000 journal rows took 1.6 s; three
    # statements, one per table, twice as long as one.
    read = statements(lambda: sources_report(personas.workspace, None))
    journal = [sql for sql in read if 'FROM "capture_submission"' in sql]
    assert len(journal) == 1
    for sql in journal:
        assert "JSON_EXTRACT" not in sql.upper() and "capture_trackedlink" not in sql, sql


def test_owned_leads_reachability_is_computed_once_per_lead(personas):
    # Flattened into the week CASE, the consent and suppression look-ups (and a SHA-256 in
    # Python per lead) ran once per comparison: 30 s for all weeks of 300,000 leads.
    from leadbase.leads.actions import do_add_suppression

    do_add_suppression(personas.workspace, "email", "someone@example.org", "unsubscribed")
    do_add_suppression(personas.workspace, "phone", "+442079460199", "do_not_call")
    monday = date(2026, 1, 5)
    weeks = [monday + timedelta(weeks=i) for i in range(104)]
    (sql,) = [
        s
        for s in statements(lambda: owned_by_channel_week(personas.workspace, ["instagram"], weeks))
        if "leads_suppression" in s and "leads_consent" in s
    ]
    suppression_lookups = [d for _, _, d in plan(sql) if "leads_suppression" in d]
    consent_lookups = [d for _, _, d in plan(sql) if "leads_consent" in d or "_consent " in d]
    assert len(suppression_lookups) == 2  # email, phone
    # each purpose's granted consent, joined: one look-up per lead (it was two, exists and when)
    assert len(consent_lookups) == 2 and all("LEFT-JOIN" in d for d in consent_lookups), consent_lookups


def test_sources_sort_their_groups_in_chunks(personas, monkeypatch):
    """Its GROUP BYs over the whole journal and lead table sort in chunks spilled to temporary
    files, on every core (leadbase.sqlite_backend.sorting): 0.33-0.42 s against 0.73-1.06 s
    in the connection's own 64 MB of memory, at 400,000 journal rows."""
    from leadbase.sqlite_backend import sorting

    inside: list[bool] = []
    chunked = [False]

    @contextmanager
    def recording(conn):
        assert conn is connection
        chunked[0] = True
        try:
            yield True
        finally:
            chunked[0] = False

    monkeypatch.setattr(sorting, "sorting_in_chunks", recording)

    def noted(execute, sql, params, many, context):
        if "GROUP BY" in sql:
            inside.append(chunked[0])
        return execute(sql, params, many, context)

    with connection.execute_wrapper(noted):
        sources_report(personas.workspace, None)
    assert inside == [True, True, True], inside  # the clicks, the journal, the new leads


def test_sources_sort_in_memory_when_the_chunked_sort_fails(personas, monkeypatch):
    """No room for SQLite's temporary files must not make the report fail: it is read again,
    sorting as the connection does otherwise."""
    from django.db import OperationalError

    from leadbase.reports import queries
    from leadbase.sqlite_backend import sorting

    expected = sources_report(personas.workspace, None)
    chunked = [False]

    @contextmanager
    def switching(conn):
        chunked[0] = True
        try:
            yield True
        finally:
            chunked[0] = False

    real = queries._journals

    def journals(*args):
        if chunked[0]:
            raise OperationalError("database or disk is full")
        return real(*args)

    monkeypatch.setattr(sorting, "sorting_in_chunks", switching)
    monkeypatch.setattr(queries, "_journals", journals)
    assert sources_report(personas.workspace, None) == expected
