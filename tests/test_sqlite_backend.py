"""The SQLite backend's write queue: a second writer waits on the file lock, then goes on.

Connections are made directly (the test suite's own database is in memory, with no file).
"""

from __future__ import annotations

import threading
import time

import pytest
from django.db.utils import ConnectionHandler


@pytest.fixture
def connect(tmp_path, django_db_blocker):
    handler = ConnectionHandler(
        {"default": {"ENGINE": "leadbase.sqlite_backend", "NAME": str(tmp_path / "db.sqlite3"),
                     # No busy timeout: only the file lock can make the second writer wait.
                     "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 0}}}
    )
    made = []

    def make():
        conn = handler.create_connection("default")
        made.append(conn)
        return conn

    with django_db_blocker.unblock():  # our own database file, not the test database
        yield make
        for conn in made:
            conn.close()


def begin(conn) -> None:
    # What transaction.atomic() does on SQLite: BEGIN while Django's autocommit stays on.
    conn.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def end(conn, commit: bool = True) -> None:
    conn.commit() if commit else conn.rollback()
    conn.set_autocommit(True)


def test_a_second_writer_waits_for_the_first_to_commit_and_then_writes(connect):
    first, second = connect(), connect()
    with first.cursor() as cur:
        cur.execute("CREATE TABLE t (n INTEGER)")
    events: list[str] = []

    def second_writer() -> None:
        begin(second)
        events.append("second in")
        with second.cursor() as cur:
            cur.execute("INSERT INTO t VALUES (2)")
        end(second)

    begin(first)
    with first.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
    thread = threading.Thread(target=second_writer)
    second.inc_thread_sharing()
    thread.start()
    time.sleep(0.3)
    assert events == []  # queued behind the first transaction
    events.append("first commits")
    end(first)
    thread.join(timeout=10)
    assert events == ["first commits", "second in"]
    with first.cursor() as cur:
        cur.execute("SELECT n FROM t ORDER BY n")
        assert cur.fetchall() == [(1,), (2,)]


def test_a_rolled_back_transaction_gives_the_lock_back(connect):
    first, second = connect(), connect()
    begin(first)
    end(first, commit=False)
    done = threading.Event()

    def writer() -> None:
        begin(second)
        done.set()
        end(second)

    second.inc_thread_sharing()
    thread = threading.Thread(target=writer)
    thread.start()
    thread.join(timeout=10)
    assert done.is_set()


def test_a_write_outside_a_transaction_queues_for_the_lock_too(connect):
    # A worker marking a task done writes in autocommit mode. Left to SQLite's busy handler
    # (here: none at all), it would fail or lose the race to every transaction in the queue.
    first, second = connect(), connect()
    with first.cursor() as cur:
        cur.execute("CREATE TABLE t (n INTEGER)")
    events: list[str] = []

    def autocommit_writer() -> None:
        with second.cursor() as cur:
            cur.execute("UPDATE t SET n = n + 1")
        events.append("updated")

    begin(first)
    with first.cursor() as cur:
        cur.execute("INSERT INTO t VALUES (1)")
    second.inc_thread_sharing()
    thread = threading.Thread(target=autocommit_writer)
    thread.start()
    time.sleep(0.3)
    assert events == []  # waiting on the lock, not failing with "database is locked"
    end(first)
    thread.join(timeout=10)
    assert events == ["updated"]
    with first.cursor() as cur:
        cur.execute("SELECT n FROM t")
        assert cur.fetchall() == [(2,)]
    with second.cursor() as cur:  # reads never take the lock
        cur.execute("SELECT COUNT(*) FROM t")
        assert cur.fetchone() == (1,)


def _connection_as_configured(path):
    """A connection with the options `leadbase.settings` gives a SQLite DATABASE_URL."""
    from leadbase.settings import _database

    return ConnectionHandler({"default": _database(f"sqlite:///{path}")}).create_connection("default")


def test_a_new_database_gets_4_kb_pages_in_wal_mode(tmp_path, django_db_blocker):
    with django_db_blocker.unblock():
        conn = _connection_as_configured(tmp_path / "new.sqlite3")
        try:
            with conn.cursor() as cur:
                cur.execute("CREATE TABLE t (n INTEGER)")
                cur.execute("PRAGMA page_size")
                assert cur.fetchone()[0] == 4096
                cur.execute("PRAGMA journal_mode")
                assert cur.fetchone()[0] == "wal"
        finally:
            conn.close()


@pytest.mark.parametrize("megabytes", [0, 64])
def test_a_connection_maps_as_many_megabytes_of_the_file_as_set(tmp_path, django_db_blocker, monkeypatch, megabytes):
    monkeypatch.setattr("leadbase.settings.SQLITE_MMAP_MB", megabytes)  # LEADBASE_SQLITE_MMAP_MB
    with django_db_blocker.unblock():
        conn = _connection_as_configured(tmp_path / "mapped.sqlite3")
        try:
            with conn.cursor() as cur:
                cur.execute("PRAGMA mmap_size")
                assert cur.fetchone()[0] == megabytes * 1024 * 1024
        finally:
            conn.close()


def test_an_existing_database_keeps_its_page_size(tmp_path, django_db_blocker):
    import sqlite3

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute("PRAGMA page_size=16384")  # what Leadbase gave new databases before 2026-11-28
    old.execute("PRAGMA journal_mode=WAL")
    old.execute("CREATE TABLE t (n INTEGER)")
    old.execute("INSERT INTO t VALUES (1)")
    old.commit()
    old.close()
    with django_db_blocker.unblock():
        conn = _connection_as_configured(path)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT n FROM t")
                assert cur.fetchall() == [(1,)]
                cur.execute("PRAGMA page_size")
                assert cur.fetchone()[0] == 16384
        finally:
            conn.close()


def test_placeholders_are_converted_as_django_converts_them_again_and_again(connect):
    conn = connect()
    with conn.cursor() as cur:
        for value in (1, "two", None):  # the same statement: its converted text is reused
            cur.execute("SELECT %s, '%%s', '100%%', 'a%%%%b'", [value])
            assert cur.fetchone() == (value, "%s", "100%", "a%%b")
        cur.execute("SELECT %(n)s, %(m)s", {"n": 5, "m": "x"})  # pyformat still goes its own way
        assert cur.fetchone() == (5, "x")
        cur.execute("CREATE TABLE t (v TEXT)")
        cur.executemany("INSERT INTO t VALUES (%s || '%%')", [["1"], ["2"]])
        cur.execute("SELECT v FROM t ORDER BY v")
        assert cur.fetchall() == [("1%",), ("2%",)]


def _pragmas(conn) -> tuple[int, int]:
    with conn.cursor() as cur:
        cur.execute("PRAGMA temp_store")
        store = cur.fetchone()[0]
        cur.execute("PRAGMA cache_size")
        return store, cur.fetchone()[0]


def test_a_big_sort_that_fails_in_chunks_runs_again_as_the_connection_sorts(connect):
    """No room for the temporary files (an OperationalError): the report or index is made
    again with the connection's own settings, which are back by then."""
    from django.db import OperationalError

    from leadbase.sqlite_backend.sorting import SORT_CHUNK_KB, run_sorting_in_chunks

    conn = connect()
    own = _pragmas(conn)
    seen = []

    def work():
        seen.append(_pragmas(conn))
        if len(seen) == 1:
            raise OperationalError("database or disk is full")
        return "done"

    assert run_sorting_in_chunks(conn, work) == "done"
    assert seen == [(1, -SORT_CHUNK_KB), own]  # in chunks (temp_store FILE), then as before
    assert _pragmas(conn) == own


def test_a_sort_that_did_not_switch_is_not_run_again(django_db_blocker):
    from django.db import OperationalError

    from leadbase.sqlite_backend.sorting import run_sorting_in_chunks

    handler = ConnectionHandler({"default": {"ENGINE": "leadbase.sqlite_backend", "NAME": ":memory:"}})
    runs = []

    def work():
        runs.append(1)
        raise OperationalError("no such table: x")

    with django_db_blocker.unblock():
        conn = handler.create_connection("default")  # in memory: it sorts as it always does
        try:
            with pytest.raises(OperationalError):
                run_sorting_in_chunks(conn, work)
        finally:
            conn.close()
    assert runs == [1]  # the error was not the chunked sort's: not read again
