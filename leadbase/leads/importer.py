"""CSV import: the one code path behind `leadbase import` and the web import page.

The file is streamed in blocks of whole lines. Parsing them and cleaning their rows (name,
email, phone, country — the costly part) runs in worker processes on every core, a bounded
number of blocks ahead; the main process, the one writer, only writes the cleaned rows through
``batch.apply_batch`` (the same identity rules as forms and the API), in batches of
``BATCH_ROWS``, a few per transaction. So memory stays flat in the file size and an interrupted
import loses at most the transaction in flight (``BATCH_ROWS * BATCHES_PER_COMMIT`` rows).
Re-running a file merges every row already imported into its lead and creates nothing new.
A UTF-16 file, whose line breaks cannot be found byte by byte, is parsed in the main process.
"""

from __future__ import annotations

import csv
import ctypes
import gc
import itertools
import logging
import marshal
import multiprocessing
import os
import signal
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import connection, transaction
from django.utils import timezone

from leadbase.accounts.models import User, Workspace
from leadbase.leads.actions import enqueue_duplicate_scan, region_for
from leadbase.leads.batch import Context, Outcome, apply_batch
from leadbase.leads.bulkload import deferred_indexes, ensure_lead_indexes, should_defer_indexes
from leadbase.leads.identity import KeyFilter
from leadbase.leads.models import ImportJob, ImportStatus, Lead, LeadAlias, Source, TouchKind
from leadbase.lib import columns as cols
from leadbase.lib.csvfile import (
    BlockFormat,
    CsvError,
    CsvInfo,
    block_format,
    joined_blocks,
    parse_block,
    preview,
    read_blocks,
    read_rows,
    sniff,
)
from leadbase.lib.leadrow import Candidate, Refusal, clean_record
from leadbase.tasks import enqueue_with_write

logger = logging.getLogger(__name__)

BATCH_ROWS = 10000  # rows cleaned together in a worker, and written by one apply_batch
BATCHES_PER_COMMIT = 5  # batches per transaction: each commit writes every page it dirtied
IMPORT_WAL_BYTES = 64 * 1024 * 1024  # the write-ahead log between checkpoints while importing
KEY_FILTER_MAX_LEADS = 50_000
# The cleaners yield the CPU to the writer (the one process that cannot be spread over cores)
# and to the web server and worker when they share the machine.
CLEANER_NICE = 10
PR_SET_PDEATHSIG = 1  # prctl(2)
REPORT_HEADER = ("row", "outcome", "lead_id", "code", "message")

MAPPING_CHOICES: list[tuple[str, str]] = [
    ("", "— ignore —"),
    ("name", "Full name"),
    ("first_name", "First name"),
    ("last_name", "Last name"),
    ("email", "Email"),
    ("phone", "Phone"),
    ("company", "Company"),
    ("job_title", "Job title"),
    ("country", "Country"),
    ("source", "Lead source"),
    ("notes", "Notes"),
    ("utm_source", "UTM source"),
    ("utm_medium", "UTM medium"),
    ("utm_campaign", "UTM campaign"),
    ("utm_term", "UTM term"),
    ("utm_content", "UTM content"),
    ("referrer", "Referrer"),
]


class ImportStopped(Exception):
    """An import that stopped part way (a cleaning process killed): what it committed is kept,
    and importing the file again completes it."""


class ImportFileError(Exception):
    """A file that cannot be imported at all; nothing was written."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    merged: int = 0
    rejected: int = 0
    warnings: int = 0
    rejections: list[dict[str, Any]] = field(default_factory=list)  # the first ``keep`` of them
    elapsed_s: float = 0.0
    keep: int | None = None  # how many rejections to list (None: all)

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows, "created": self.created, "merged": self.merged, "rejected": self.rejected,
            "warnings": self.warnings, "rejections": self.rejections, "elapsed_s": round(self.elapsed_s, 3),
        }


# --- cleaning, in worker processes -------------------------------------------------------------

RawRow = tuple[int, "list[str] | None", str]


def _record(cells: list[str], mapping: list[str]) -> dict[str, Any]:
    record: dict[str, Any] = {}
    custom: dict[str, str] = {}
    for target, value in zip(mapping, cells):
        if not target or not value:
            continue
        if target.startswith(cols.CUSTOM_PREFIX):
            custom[target[len(cols.CUSTOM_PREFIX):]] = value
        elif target not in record:
            record[target] = value
    if custom:
        record["custom"] = custom
    return record


def _columns(mapping: list[str]) -> list[tuple[int, str]] | None:
    """(position, field) of each mapped column, the first of two mapped to one field; None when
    a column goes to the custom fields (``_record`` handles those)."""
    if any(target.startswith(cols.CUSTOM_PREFIX) for target in mapping):
        return None
    first: dict[str, int] = {}
    for position, target in enumerate(mapping):
        if target:
            first.setdefault(target, position)
    return [(position, target) for target, position in first.items()]


def clean_batch(args: tuple[list[RawRow], list[str], str]) -> list[tuple[int, Candidate | Refusal]]:
    """Clean one batch of raw rows; pure, so it runs in a worker process."""
    rows, mapping, region = args
    out: list[tuple[int, Candidate | Refusal]] = []
    columns, width = _columns(mapping), len(mapping)
    for number, cells, problem in rows:
        if cells is None:
            out.append((number, Refusal("malformed_row", problem or "The row could not be read.")))
            continue
        if columns is not None and len(cells) >= width:  # what _record makes, by position
            record = {target: value for position, target in columns if (value := cells[position])}
        else:
            record = _record(cells, mapping)
        out.append((number, clean_record(record, region)))
    return out


def clean_packed(packed: bytes, mapping: list[str], region: str) -> bytes:
    """``clean_batch`` between processes: marshalled raw rows in, marshalled outcomes out.

    marshal, not pickle (which the pool would use): a batch is plain strings, numbers, lists,
    tuples and dicts of strings, which marshal writes and reads two to three times faster, and
    a candidate goes as a plain tuple rather than as a NamedTuple, whose pickling calls back
    into Python for every row. marshal's format can change between Python versions, but both
    ends are the same interpreter (the cleaners are forked).
    """
    return _packed(clean_batch((marshal.loads(packed), mapping, region)))


def _packed(cleaned: list[tuple[int, Candidate | Refusal]]) -> bytes:
    return marshal.dumps([(number, type(c) is Candidate, tuple(c)) for number, c in cleaned])


def unpack_cleaned(packed: bytes, base: int = 0) -> list[tuple[int, Candidate | Refusal]]:
    """The outcomes written by ``clean_packed``, as ``clean_batch`` returned them; ``base`` is
    added to their row numbers (the rows of the blocks before)."""
    new = tuple.__new__  # a Candidate from its 22 values, without its Python-level __new__
    return [
        (base + number, new(Candidate, values) if candidate else Refusal(*values))
        for number, candidate, values in marshal.loads(packed)
    ]


def clean_block(data: bytes, fmt: BlockFormat, first: bool, last: bool, mapping: list[str], region: str) -> bytes:
    """Parse one block of the file and clean its rows (in a cleaning process): the outcomes as
    ``clean_packed`` writes them, numbered from 1 within the block, or ``_UNFINISHED`` when the
    block ends inside a quoted value and must be parsed again joined to the next one."""
    rows = parse_block(data, fmt, first=first, last=last)
    return _packed(clean_batch((rows, mapping, region))) if rows is not None else _UNFINISHED


_UNFINISHED = marshal.dumps(None)


def _batches(rows: Iterable[RawRow], size: int) -> Iterator[list[RawRow]]:
    batch: list[RawRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _in_order(func: Callable[..., bytes], jobs: Iterable[tuple], workers: int) -> Iterator[tuple[tuple, bytes]]:
    """``(job, func(*job))`` for every job, in order: run in ``workers`` cleaning processes, at
    most ``workers + 1`` jobs in flight (flat memory: enough to keep every cleaner busy while
    the main process writes), or here when ``workers`` is 1."""
    if workers <= 1:
        for job in jobs:
            yield job, func(*job)
        return
    # Fork keeps start-up instant (the modules are already imported). The children only run
    # pure functions and leave through os._exit, so they never touch (or close) the database
    # connection they inherit; the parent's connection — possibly inside a transaction, as in a
    # dry run — stays valid.
    # A process pool that reports a lost process: multiprocessing.Pool replaced a cleaner that
    # was killed (the out-of-memory killer) and waited for ever for the batch it had in hand,
    # the import stuck at its last figure and its lane with it. With fork, the executor starts
    # its processes before its own thread, so no lock is copied in a held state.
    pool = ProcessPoolExecutor(
        workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_cleaner,
        initargs=(os.getpid(),),
    )
    try:
        pending: deque = deque()
        for job in jobs:
            pending.append((job, pool.submit(func, *job)))
            if len(pending) > workers:
                job, result = pending.popleft()
                yield job, _result(result)
        while pending:
            job, result = pending.popleft()
            yield job, _result(result)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result(future: Future) -> bytes:
    try:
        return future.result()
    except BrokenProcessPool:
        raise ImportStopped(
            "A cleaning process of the import stopped (killed, or out of memory). The rows "
            "written before are kept; import the file again to complete it."
        ) from None


def _start_cleaner(parent: int) -> None:
    """Set up a forked cleaning process: lower priority, and nothing that outlives the import.

    A forked child also gets its parent's signal handlers: in `leadbase worker`, SIGTERM only
    asks the worker to stop after the task in hand, so the pool's own SIGTERM, sent when the
    import is done with it, left a cleaner that was waiting for the pool's queue lock alive, and
    the worker waited for it for ever. Here SIGTERM kills again, and Ctrl-C is the parent's
    to handle (it ends the pool).

    A forked child shares its parent's open files, the SQLite write lock's among them (see
    ``leadbase.sqlite_backend``): a ``flock`` is held until every process sharing it has closed
    it, so a cleaner left behind by a killed import would hold the lock, and every write of every
    process would wait for ever. So the child closes its copy (only closes: unlocking would unlock
    the parent too) and dies with its parent.
    """
    from django.db import connections

    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    os.nice(CLEANER_NICE)
    for conn in connections.all(initialized_only=True):
        if hasattr(conn, "forget_write_lock"):  # leadbase.sqlite_backend
            conn.forget_write_lock()
    # Linux: the kernel kills this process when the parent is gone (strictly, the parent's thread
    # that started the pool; imports run in their process's main thread).
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except (AttributeError, OSError):
        pass
    if os.getppid() != parent:  # the parent died before the line above took effect
        os._exit(1)


def _cleaned(
    batches: Iterator[list[RawRow]], mapping: list[str], region: str, workers: int
) -> Iterator[list[tuple[int, Candidate | Refusal]]]:
    """Cleaned batches in file order, from batches of rows read in the main process."""
    jobs = ((marshal.dumps(batch), mapping, region) for batch in batches)
    for _, packed in _in_order(clean_packed, jobs, workers):
        yield unpack_cleaned(packed)


def _cleaned_blocks(
    path: str | os.PathLike[str], info: CsvInfo, mapping: list[str], region: str, workers: int
) -> Iterator[list[tuple[int, Candidate | Refusal]]] | None:
    """Cleaned batches in file order, from blocks of the file that the cleaning processes parse
    as well as clean, so the main process does not parse CSV at all; None when the file cannot
    be cut into blocks (see ``block_format``).

    A block that ends inside a quoted value (a line break within a value, right at the cut) is
    parsed again here, joined to the next block; rows are numbered across blocks in order.
    """
    blocks = read_blocks(path)
    first = next(blocks, None)
    fmt = block_format(first, info) if first is not None else None
    if fmt is None:
        return None
    jobs = (
        (data, fmt, index == 0, False, mapping, region) for index, data in enumerate(itertools.chain([first], blocks))
    )

    def again(data: bytes, is_first: bool, last: bool) -> bytes:  # here, for a joined block
        return clean_block(data, fmt, is_first, last, mapping, region)

    def blocks_cleaned() -> Iterator[list[tuple[int, Candidate | Refusal]]]:
        results = ((data, is_first, packed) for (data, _, is_first, *_), packed in _in_order(clean_block, jobs, workers))
        base = 0
        for packed in joined_blocks(results, again, _UNFINISHED):
            outcomes = unpack_cleaned(packed, base)
            if outcomes:
                base = outcomes[-1][0]
                yield outcomes
        if base == 0:
            raise CsvError("empty", "The file has a header row but no data rows.")

    def batches() -> Iterator[list[tuple[int, Candidate | Refusal]]]:
        """The blocks' rows in batches of BATCH_ROWS, whatever the blocks' sizes."""
        size, batch = BATCH_ROWS, []
        for outcomes in blocks_cleaned():
            batch += outcomes
            while len(batch) >= size:
                yield batch[:size]
                batch = batch[size:]
        if batch:
            yield batch

    return batches()


# --- the import itself ----------------------------------------------------------------------------


def import_file(
    workspace: Workspace,
    path: str | os.PathLike[str],
    *,
    actor: User | None = None,
    mapping: list[str] | None = None,
    region: str | None = None,
    dry_run: bool = False,
    report_file: IO[str] | None = None,
    progress: Callable[[ImportReport], None] | None = None,
    job: ImportJob | None = None,
    workers: int | None = None,
    keep_rejections: int | None = None,
) -> ImportReport:
    """Import a CSV file into ``workspace``; see the module docstring for the guarantees.

    ``report_file`` receives one CSV line per data row (``row,outcome,lead_id,code,message``).
    The returned report lists the first ``keep_rejections`` refused rows (None: all of them;
    memory grows with their number, so callers that have the report file keep few).
    ``dry_run`` does everything inside one transaction and rolls it back.
    Raises ImportFileError when the file is not a usable CSV (nothing written).
    """
    started = time.perf_counter()
    info = _sniff(path)
    mapping = mapping or cols.guess_mapping(info.header)
    try:
        cols.validate_mapping(mapping)
    except CsvError as exc:
        raise ImportFileError(exc.code, exc.message) from None
    region = region_for(workspace, region)
    label = f"import #{job.pk} ({job.filename})" if job else f"import of {Path(path).name}"
    ctx = Context(
        workspace_id=workspace.pk, source=Source.IMPORT, source_ref=(job.filename if job else Path(path).name),
        actor_id=actor.pk if actor else None, actor_label=label, created_kind=TouchKind.IMPORTED,
        touch_data={"import": job.pk} if job else {"file": Path(path).name}, row_key_name="row",
    )
    report = ImportReport(keep=keep_rejections)
    writer = csv.writer(report_file) if report_file else None
    if writer:
        writer.writerow(REPORT_HEADER)
    workers = workers or settings.IMPORT_WORKERS
    new_ids = _IdRange()
    lines: list[tuple[Any, ...]] = []  # report lines of the transaction in progress
    committed = 0  # rows of the committed transactions
    try:
        cleaned = _cleaned_blocks(path, info, mapping, region, workers) or _cleaned(
            _batches(read_rows(path, info), BATCH_ROWS), mapping, region, workers
        )
    except CsvError as exc:  # the header, read again from the first block (nothing written yet)
        raise ImportFileError(exc.code, exc.message) from None
    keys = _Keys(workspace.pk)
    try:
        if dry_run:
            emit = writer.writerow if writer else None  # streamed: nothing is committed anyway
            with transaction.atomic():
                known = keys.current()
                for items in cleaned:
                    _tally(report, apply_batch(ctx, items, known), emit, new_ids, dry_run=True)
                    if progress:
                        progress(report)
                transaction.set_rollback(True)
        else:
            with deferred_indexes(should_defer_indexes(path)), _fewer_checkpoints(), _quiet_gc():
                # Several batches per transaction: the random inserts into the identity indexes
                # dirty pages all over them, and each commit writes every dirtied page once, so
                # fewer commits write far fewer pages. Lazily: one cleaned batch in hand at a time.
                for first in cleaned:
                    with transaction.atomic():
                        known = keys.current()
                        for items in itertools.chain([first], itertools.islice(cleaned, BATCHES_PER_COMMIT - 1)):
                            _tally(report, apply_batch(ctx, items, known), lines.append if writer else None, new_ids)
                            if job is not None:
                                _save_progress(job, report)
                            if progress:
                                progress(report)
                    # The report tells only what was committed, so a failure after this point
                    # leaves no line about a row that was rolled back.
                    committed = report.rows
                    if writer:
                        writer.writerows(lines)
                        lines.clear()
    except CsvError as exc:  # e.g. UTF-16 data that stops decoding mid-file
        if committed and new_ids.first is not None and not dry_run:
            enqueue_duplicate_scan(workspace.pk, new_ids.first, new_ids.last)
        kept = (
            f"The first {committed} rows were imported and none after them; fix the file and "
            "import it again (rows already imported are merged, not duplicated)."
            if committed and not dry_run
            else "No row was imported."
        )
        raise ImportFileError(exc.code, f"{exc.message} {kept}") from None
    if new_ids.first is not None and not dry_run:
        enqueue_duplicate_scan(workspace.pk, new_ids.first, new_ids.last)
    report.elapsed_s = time.perf_counter() - started
    return report


class _Keys:
    """The contact keys of the workspace, so an import skips looking up contacts no lead has.

    SQLite only, and only for a workspace of at most ``KEY_FILTER_MAX_LEADS`` leads (in a bigger
    one most contacts of a file are known, and the lookups are needed anyway). The filter is
    filled with the workspace's keys (its leads' and their aliases') once, then with every key
    the import writes. It is valid only while nothing else writes to the database: ``PRAGMA
    data_version`` tells, at the start of each of the import's transactions, whether another
    connection committed since the filter was filled; if one did, the import looks every
    contact up from then on.
    """

    def __init__(self, workspace_id: int) -> None:
        self._filter: KeyFilter | None = None
        if connection.vendor != "sqlite":
            return
        table = Lead._meta.db_table
        with connection.cursor() as cur:
            self._version = self._data_version(cur)  # before reading: a later commit is seen
            cur.execute(
                f'SELECT COUNT(*) FROM (SELECT 1 FROM "{table}" WHERE "workspace_id" = %s LIMIT %s)',
                [workspace_id, KEY_FILTER_MAX_LEADS + 1],
            )
            if cur.fetchone()[0] > KEY_FILTER_MAX_LEADS:
                return
            cur.execute(f'SELECT "email_key", "phone_e164" FROM "{table}" WHERE "workspace_id" = %s', [workspace_id])
            rows = cur.fetchall()
            # A contact set aside by a merge reaches its lead too, and may be on no lead at all.
            cur.execute(f'SELECT "key" FROM "{LeadAlias._meta.db_table}" WHERE "workspace_id" = %s', [workspace_id])
            aliases = cur.fetchall()
        self._filter = KeyFilter()
        self._filter.add(email for email, _ in rows)
        self._filter.add(phone for _, phone in rows)
        self._filter.add(key for (key,) in aliases)

    @staticmethod
    def _data_version(cur: Any) -> int:
        cur.execute("PRAGMA data_version")
        return cur.fetchone()[0]

    def current(self) -> KeyFilter | None:
        """The filter for the transaction just begun, or None when it can no longer be trusted."""
        if self._filter is not None:
            with connection.cursor() as cur:
                if self._data_version(cur) != self._version:
                    self._filter = None
        return self._filter


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """Keep the cyclic garbage collector from rescanning the whole heap over and over.

    An import allocates millions of short-lived, acyclic containers (rows, candidates, dicts);
    at the default thresholds the collector runs thousands of times and each full pass walks
    every live object — about a sixth of the import's time. The objects that exist before the
    import are frozen (never scanned) and collections become rarer, not disabled: a young
    collection runs once a million more containers are alive than at the last one (a batch
    keeps a few hundred thousand alive, then frees them by reference counting). That is safe
    because cleaning a row makes no reference cycle (``clean_record`` keeps no exception); a
    1,000,000-row import takes about 1.6 s less than with collections ten times as often.
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(1_000_000, 50, 1000)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@contextmanager
def _fewer_checkpoints() -> Iterator[None]:
    """Let SQLite's write-ahead log grow to 64 MB between checkpoints while importing.

    Each checkpoint copies the log into the database file and syncs it; at the default (1,000
    pages: 4 MB, or 16 MB in a database made with 16 KB pages) that happens after nearly every batch. The log is
    checkpointed every 64 MB instead, and once at the end. Durability is unchanged: every
    committed batch is in the log.
    """
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA wal_autocheckpoint")
        before = cur.fetchone()[0]
        cur.execute("PRAGMA page_size")  # 4 KB; 16 KB in a database made by Leadbase before 2026-11-28
        pages = IMPORT_WAL_BYTES // cur.fetchone()[0]
        cur.execute(f"PRAGMA wal_autocheckpoint = {pages}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")
            if not connection.in_atomic_block:  # a checkpoint cannot run inside a transaction
                cur.execute("PRAGMA wal_checkpoint(PASSIVE)")


def _sniff(path: str | os.PathLike[str]) -> CsvInfo:
    try:
        return sniff(path)
    except CsvError as exc:
        raise ImportFileError(exc.code, exc.message) from None


@dataclass(slots=True)
class _IdRange:
    """The lowest and highest id of the leads created (a million ids would cost ~40 MB)."""

    first: int | None = None
    last: int | None = None

    def add(self, lead_id: int) -> None:
        if self.first is None or lead_id < self.first:
            self.first = lead_id
        if self.last is None or lead_id > self.last:
            self.last = lead_id


def _tally(
    report: ImportReport,
    outcomes: list[Outcome],
    emit: Callable[[tuple[Any, ...]], Any] | None,
    new_ids: _IdRange,
    *,
    dry_run: bool = False,
) -> None:
    """Count the outcomes and give ``emit`` their report lines.

    In a dry run nothing is written, so the id of a would-be lead means nothing (a real import
    may give it to someone else): created rows, and rows merging into them, get no id. Every id
    at or above the first one handed out in this run is such an id.
    """
    for o in outcomes:
        report.rows += 1
        if o.outcome == "created":
            report.created += 1
            new_ids.add(o.lead_id)  # type: ignore[arg-type]
        elif o.outcome == "merged":
            report.merged += 1
        else:
            report.rejected += 1
            if report.keep is None or len(report.rejections) < report.keep:
                report.rejections.append({"row": o.key, "code": o.code, "message": o.message})
        if o.warnings:
            report.warnings += 1
        if emit is None:
            continue
        lead_id: Any = o.lead_id
        if dry_run and new_ids.first is not None and lead_id is not None and lead_id >= new_ids.first:
            lead_id = ""
        if o.outcome == "rejected":
            emit((o.key, o.outcome, "", o.code, o.message))
        elif o.warnings:
            emit((o.key, o.outcome, lead_id, o.warnings[0][0], "; ".join(m for _, m in o.warnings)))
        else:
            emit((o.key, o.outcome, lead_id, "", ""))


def _save_progress(job: ImportJob, report: ImportReport) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        rows=report.rows, created=report.created, merged=report.merged, rejected=report.rejected,
        warnings=report.warnings,
    )


# --- the web flow: upload → mapping → run in the worker -----------------------------------------


def do_upload_import(workspace: Workspace, uploaded: UploadedFile, *, actor: User | None) -> ImportJob:
    """Store an uploaded CSV, sniff it and guess the mapping. Raises ImportFileError (nothing kept)."""
    limit = settings.IMPORT_MAX_UPLOAD_MB * 1024 * 1024
    if uploaded.size is not None and uploaded.size > limit:
        raise ImportFileError("too_large", f"The file is larger than {settings.IMPORT_MAX_UPLOAD_MB} MB.")
    folder = Path(settings.UPLOAD_DIR) / str(workspace.pk)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.csv"
    with path.open("wb") as out:
        for chunk in uploaded.chunks():
            out.write(chunk)
    try:
        info, rows = preview(path, limit=50)
        mapping = cols.guess_mapping(info.header)
    except CsvError as exc:
        path.unlink(missing_ok=True)
        raise ImportFileError(exc.code, exc.message) from None
    size = path.stat().st_size
    sample_bytes = sum(len(",".join(r)) + 1 for r in rows) or 1
    estimated = max(len(rows), int(size / (sample_bytes / max(len(rows), 1))))
    return ImportJob.objects.create(
        workspace=workspace, created_by=actor, filename=Path(uploaded.name or "upload.csv").name[:255],
        path=str(path), size=size, encoding=info.encoding, delimiter=info.delimiter, header=info.header,
        mapping=mapping, region=region_for(workspace), estimated_rows=estimated,
    )


def preview_rows(job: ImportJob, limit: int = 10) -> list[list[str]]:
    return preview(job.path, limit=limit)[1]


def do_set_import_mapping(job: ImportJob, mapping: list[str], region: str | None, *, actor: User | None) -> ImportJob:
    """Set the column mapping chosen on the web page. Raises ImportFileError when unusable."""
    if job.status != ImportStatus.UPLOADED:
        raise ImportFileError("already_started", "This import has already started.")
    if len(mapping) != len(job.header):
        raise ImportFileError("bad_mapping", "Choose a field (or “ignore”) for every column.")
    allowed = {value for value, _ in MAPPING_CHOICES}
    for target in mapping:
        if target not in allowed and not target.startswith(cols.CUSTOM_PREFIX):
            raise ImportFileError("bad_mapping", f"“{target}” is not a lead field.")
    try:
        cols.validate_mapping(mapping)
    except CsvError as exc:
        raise ImportFileError(exc.code, exc.message) from None
    except ValueError as exc:  # a field chosen for two columns, or an unknown target
        raise ImportFileError("bad_mapping", str(exc)) from None
    if region and (len(region) != 2 or not region.isalpha()):
        raise ImportFileError("bad_region", "The region must be a two-letter country code such as US or DE.")
    job.mapping = mapping
    job.region = (region or job.region).upper()
    job.save(update_fields=["mapping", "region"])
    return job


def do_start_import(job: ImportJob, *, actor: User | None) -> ImportJob:
    """Queue the import; the worker runs it (`leads.tasks.run_import`)."""
    from leadbase.leads.tasks import run_import

    with transaction.atomic():
        if not ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(status=ImportStatus.QUEUED):
            raise ImportFileError("already_started", "This import has already started.")
        enqueue_with_write(run_import, job.pk)
    job.refresh_from_db()
    return job


def run_import_job(job_id: int) -> None:
    """Run a queued import job to the end, writing its report next to the upload.

    A job already running is run again from the start: its task runs a second time only when
    the worker running it was killed and the next worker put the task back on the queue
    (``leadbase.worker``). The rows the killed run wrote are found again and change nothing."""
    if not ImportJob.objects.filter(
        pk=job_id, status__in=[ImportStatus.QUEUED, ImportStatus.RUNNING]
    ).update(status=ImportStatus.RUNNING, started_at=timezone.now()):
        return  # finished, failed or not queued
    job = ImportJob.objects.select_related("workspace", "created_by").get(pk=job_id)
    ensure_lead_indexes()  # a previous import killed in bulk-load mode left some missing
    report_path = Path(job.path).with_suffix(".report.csv")
    try:
        with report_path.open("w", newline="", encoding="utf-8") as out:
            report = import_file(
                job.workspace, job.path, actor=job.created_by, mapping=job.mapping, region=job.region,
                report_file=out, job=job, keep_rejections=0,  # they are in the report file
            )
    except ImportFileError as exc:
        _failed(job, exc.message, report_path)
        return
    except ImportStopped as exc:
        _failed(job, str(exc), report_path)
        return
    except Exception as exc:
        _failed(job, f"Unexpected error: {exc}", report_path)
        raise
    ImportJob.objects.filter(pk=job_id).update(
        status=ImportStatus.DONE, rows=report.rows, created=report.created, merged=report.merged,
        rejected=report.rejected, warnings=report.warnings, report_path=str(report_path),
        finished_at=timezone.now(),
    )
    _delete_upload(job)


def _failed(job: ImportJob, error: str, report_path: Path) -> None:
    """Mark a job failed, keeping the report of the rows it wrote before it stopped."""
    kept = str(report_path) if report_path.exists() else ""
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, error=error, report_path=kept, finished_at=timezone.now()
    )
    _delete_upload(job)


def _delete_upload(job: ImportJob) -> None:
    """The uploaded file holds every person of the file, as typed: once the import has ended it
    is of no more use (the leads are written, importing again means uploading again), and an
    erased person must not stay in it. A run stopped before its end (the worker killed or
    stopped) keeps it: the next worker runs the import again from the file."""
    _delete_file(job.path)


def _delete_file(path: str) -> None:
    if not path:
        return
    try:
        Path(path).unlink(missing_ok=True)
    except OSError as exc:  # permissions changed under it: said in the log, the import is not failed for it
        logger.warning("Could not delete the import file %s: %s", path, exc)


def delete_old_import_files(now: datetime | None = None) -> int:
    """Delete the reports of imports that ended more than ``IMPORT_FILES_DAYS`` days ago, and
    the uploads left at the mapping page that long (such an import is marked failed, saying
    why); each import keeps its counts and says when its files were deleted. Returns how many
    imports lost their files. Run by the worker's imports lane (``leadbase worker``) every
    hour, on the machine that holds the files."""
    days = settings.IMPORT_FILES_DAYS
    if days <= 0:
        return 0
    now = now or timezone.now()
    before = now - timedelta(days=days)
    deleted = 0
    ended = ImportJob.objects.filter(finished_at__lt=before, files_deleted_at__isnull=True)
    for job in ended.only("pk", "path", "report_path"):
        _delete_file(job.report_path)
        _delete_upload(job)  # (kept by an import that ended before uploads were deleted at the end)
        deleted += ImportJob.objects.filter(pk=job.pk).update(files_deleted_at=now)
    waiting = ImportJob.objects.filter(status=ImportStatus.UPLOADED, created_at__lt=before)
    for job in waiting.only("pk", "path"):
        _delete_upload(job)
        deleted += ImportJob.objects.filter(pk=job.pk, status=ImportStatus.UPLOADED).update(
            status=ImportStatus.FAILED, files_deleted_at=now, finished_at=now,
            error=f"The file was deleted after {days} days without being imported. Upload it again to import it.",
        )
    return deleted
