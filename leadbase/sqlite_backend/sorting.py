"""Big sorts on SQLite: chunks spilled to temporary files, a helper thread per core.

Leadbase's connections keep temporary data in memory with a 64 MB page cache (``leadbase.
settings``), right for the many small statements of the web and the worker. A statement that
sorts hundreds of thousands of rows (building an index, a GROUP BY over a whole table) runs
faster otherwise: SQLite sorts in chunks the size of the page cache and merges them, and uses
helper threads only when the chunks go to temporary files. A chunk of a few megabytes fits the
processor's caches; a 64 MB one does not. Measured on 2 cores: the eight lead indexes of 925,000
leads, 6.2–7.2 s sorted in memory in one thread, 4.5–5.5 s in chunks on both cores; the Sources
report's GROUP BY over 400,000 journal rows, 0.73–1.06 s against 0.33–0.42 s. The temporary
files are small and short-lived, so they stay in the OS's page cache.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from django.db import OperationalError

T = TypeVar("T")

#: The sort's chunk, in KB: SQLite takes it from the page cache's size.
SORT_CHUNK_KB = 2048


def run_sorting_in_chunks(connection: Any, work: Callable[[], T]) -> T:
    """``work()`` with ``connection`` sorting in chunks (``sorting_in_chunks``); run again as
    the connection sorts otherwise when that fails with an OperationalError, e.g. no room for
    the temporary files. Only a run that sorted in chunks is run again."""
    with sorting_in_chunks(connection) as chunked:
        try:
            return work()
        except OperationalError:
            if not chunked:
                raise
    return work()  # the connection's own settings are back


@contextmanager
def sorting_in_chunks(connection: Any) -> Iterator[bool]:
    """Let ``connection`` sort in chunks on every core while the block runs, then put its
    settings back; the block is told whether it does. Only on an SQLite file, outside a
    transaction (where temporary data goes cannot change inside one); elsewhere it changes
    nothing."""
    if connection.vendor != "sqlite" or connection.is_in_memory_db() or connection.in_atomic_block:
        yield False
        return
    before = {}
    with connection.cursor() as cur:
        for pragma in ("cache_size", "temp_store", "threads"):
            cur.execute(f"PRAGMA {pragma}")
            before[pragma] = int(cur.fetchone()[0])
        cur.execute("PRAGMA temp_store = FILE")
        cur.execute(f"PRAGMA threads = {os.cpu_count() or 1}")
        cur.execute(f"PRAGMA cache_size = -{SORT_CHUNK_KB}")
    try:
        yield True
    finally:
        with connection.cursor() as cur:
            for pragma, value in before.items():
                cur.execute(f"PRAGMA {pragma} = {value}")
