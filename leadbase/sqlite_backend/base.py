"""Django's SQLite backend, with writers queuing on an OS file lock instead of polling.

SQLite lets one writer in at a time; a blocked writer's busy handler sleeps for growing
intervals (up to 100 ms) and retries, so under contention most of the waiting is oversleeping:
the lock is free long before the sleeper looks again. That is what made a form post's p99 ten
times its median. Here every transaction (``BEGIN IMMEDIATE``, i.e. every ``atomic`` block)
first takes an exclusive ``flock`` on a file next to the database and gives it back at commit or
rollback: writers of every process wait in the kernel and wake the moment it is released.

Each statement's ``%s`` placeholders become SQLite's ``?`` through a regular expression; the
converted text of the last 1,024 statements is kept, since the hot paths run the same few
statements over and over (a group of form posts runs about twenty).

A write statement run outside a transaction (autocommit: the task worker marking a task done,
``QuerySet.update`` outside ``atomic``) takes the same lock around itself. Left to SQLite's busy
handler it would poll while the web processes pass the lock from one to the next, and lose
nearly every time: under a burst of form posts the worker finished a few tasks a second and the
confirmation emails waited for the burst to end.

The kernel drops the lock when a process dies, so a crash cannot leave it held. In-memory
databases (the test suite) have no file to lock and behave exactly like Django's backend.

``checkpoint`` copies the write-ahead log back into the database file without the write lock.
SQLite does that itself in the commit that takes the log past ``wal_autocheckpoint`` pages,
inside that commit, so the lock was held while up to 16 MB were copied and synced: the commit of
a group of 8 form posts took 2.2 ms on average with those checkpoints, 0.9 ms without.
`leadbase serve` raises the threshold for its processes to a backstop and calls this from its
own process twice a second.
"""

from __future__ import annotations

import fcntl
import os
from functools import lru_cache

from django.db.backends.sqlite3 import base

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLAC")


@lru_cache(maxsize=1024)
def _qmark(query: str) -> str:
    return base.FORMAT_QMARK_REGEX.sub("?", query).replace("%%", "%")


def checkpoint(connection) -> tuple[int, int, int]:  # type: ignore[no-untyped-def]
    """Copy into the database file what the write-ahead log holds and no reader still needs
    (SQLite's ``PASSIVE`` checkpoint: writers and readers go on meanwhile). Returns SQLite's
    answer: (1 if it could not start, pages in the log, pages copied so far)."""
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
        busy, logged, copied = cursor.fetchone()
    return busy, logged, copied


class _Cursor(base.SQLiteCursorWrapper):
    """Takes the write lock around a write statement run in autocommit mode."""

    owner: DatabaseWrapper

    def convert_query(self, query, *, param_names=None):  # type: ignore[no-untyped-def]
        if param_names is None:
            return _qmark(query)
        return super().convert_query(query, param_names=param_names)

    # No context manager around each statement: building one (a generator and its wrapper) for
    # every statement was about 1 % of a form post's instructions, to take a lock almost never.
    def execute(self, query, params=None):  # type: ignore[no-untyped-def]
        if not self.owner._lock_autocommit_write(query):
            return super().execute(query, params)
        try:
            return super().execute(query, params)
        finally:
            self.owner._release()

    def executemany(self, query, param_list):  # type: ignore[no-untyped-def]
        if not self.owner._lock_autocommit_write(query):
            return super().executemany(query, param_list)
        try:
            return super().executemany(query, param_list)
        finally:
            self.owner._release()


class DatabaseWrapper(base.DatabaseWrapper):
    _lock_fd: int | None = None
    _locked = False

    def create_cursor(self, name=None):  # type: ignore[no-untyped-def]
        cursor = self.connection.cursor(factory=_Cursor)
        cursor.owner = self
        return cursor

    def _lock_autocommit_write(self, query: str) -> bool:
        """Take the write lock for a write statement run outside a transaction; True when taken
        (the caller releases it once the statement has run)."""
        if self._locked or query.lstrip()[:6].upper() not in _WRITES or not self.get_autocommit():
            return False
        fd = self._lock_file()
        if fd is None:
            return False
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._locked = True
        return True

    def _start_transaction_under_autocommit(self) -> None:
        fd = self._lock_file()
        if fd is not None and not self._locked:
            fcntl.flock(fd, fcntl.LOCK_EX)
            self._locked = True
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._release()
            raise

    def _commit(self) -> None:
        try:
            return super()._commit()
        finally:
            self._release()

    def _rollback(self) -> None:
        try:
            return super()._rollback()
        finally:
            self._release()

    def _close(self) -> None:
        try:
            return super()._close()
        finally:
            self._release()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def _lock_file(self) -> int | None:
        if self._lock_fd is None and not self.is_in_memory_db():
            self._lock_fd = os.open(f"{self.settings_dict['NAME']}-writelock", os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd

    def forget_write_lock(self) -> None:
        """In a process forked from this one: close its copy of the lock file, without unlocking.

        A ``flock`` belongs to the open file, which a fork shares: it stays held until every
        process holding the file has closed it (so a child left behind by a killed parent would
        hold it for ever), while unlocking it in the child would unlock the parent's too."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None
        self._locked = False

    def _release(self) -> None:
        if self._locked and self._lock_fd is not None:
            fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        self._locked = False
