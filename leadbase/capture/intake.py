"""Group commit for public form posts: the posts that arrive while one is being written are
written together, in the next transaction.

On SQLite one write transaction runs at a time, and a form post used to be one transaction of
about twenty statements. Under a burst, posts queued for the write lock one by one, and each paid
the whole price. Here the request threads of a web process hand their post to ``take`` and wait:
the first becomes the leader, opens the transaction (waiting for the lock), and then takes every
post that queued in the meantime, its own included, with ``do_submit_forms``; the others wait for
their result. The more posts arrive at once, the more each transaction carries, and the cheaper
each post gets.

Only on SQLite, where one writer at a time is the rule anyway. On PostgreSQL each post stays its
own transaction: writers run side by side there, and a group holding the rate-limit rows and
workspace locks of several posts could deadlock with another group taking them in another order.

Each thread first works out what its post's write needs and reads nothing for (``prepare``: the
journal row, the validation, the lead record's cleaning), so the group's transaction, which
holds the database's one write lock, does only the rest.

Each post's answer is what it would have been on its own: the leader hands every waiter its
result, or the error to raise (a rate limit, a spam check's refusal). If the transaction itself
fails, nothing of it was written, and every post of the group is taken again on its own by its
own thread with ``do_submit_form``, which keeps the raw row for replay if that fails too.

Why each web process writes its own groups rather than handing them to one writer process for
all of them (tried 2026-11-27): a writer that took the prepared posts of both web processes over
a Unix socket and wrote them as one group took the write out of the request threads' share of
the interpreter lock, but sending posts and answers across processes cost more CPU than it
saved. On 2 cores the form benchmark's CPU per post rose from 1.10-1.19 ms to 1.28-1.43 ms, and
in three alternating pairs of runs it served 1,427 / 1,229 / 1,311 posts/s against 1,348 /
1,414 / 1,282 without it: no gain, and one more process whose death must lose nothing.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.db import connection, transaction

from leadbase.capture.actions import (
    SubmitJob,
    SubmitMeta,
    SubmitResult,
    do_submit_form,
    do_submit_forms,
    prepare,
)
from leadbase.capture.models import Form

log = logging.getLogger(__name__)


class _Waiting(SubmitJob):
    finished: bool = False
    alone: bool = False  # the group's transaction failed: take it on its own
    wake: threading.Lock  # held until the post is written, or its thread is to lead the next group


class Intake:
    """One per process (``intake``); shared by its request threads.

    Each waiting thread sleeps on its own post's lock, released once: when its post is written,
    or when the leader before it hands it the lead. So a finished group wakes exactly the
    threads whose posts it wrote and one more to lead (a shared condition's ``notify_all`` woke
    every waiter, and most went back to sleep).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[_Waiting] = []
        self._leading = False

    def take(self, form: Form, payload: dict[str, Any], meta: SubmitMeta) -> SubmitResult:
        if connection.vendor != "sqlite":
            return do_submit_form(form, payload, meta)
        job = _Waiting(form, payload, meta)
        prepare(job)  # before queueing: none of it needs the write lock
        job.wake = threading.Lock()
        job.wake.acquire()
        with self._lock:
            self._queue.append(job)
            lead = not self._leading
            self._leading = True
        if not lead:
            job.wake.acquire()  # written by another thread's group, or handed the lead
            lead = not job.finished
        if lead:
            self._lead()
        if job.alone:
            return do_submit_form(form, payload, meta)
        if job.error is not None:
            raise job.error
        assert job.result is not None
        return job.result

    def _lead(self) -> None:
        """Write the queued posts as a group, wake their threads, and hand the lead to the
        first post that queued meanwhile (or give it up when none did)."""
        jobs: list[_Waiting] = []
        written = False
        try:
            written = self._write_group(jobs)
        finally:
            for job in jobs:
                job.alone = job.alone or not written  # not written (even by an interrupt): alone
                job.finished = True
                job.wake.release()  # the leader's own too: nobody waits on it
            with self._lock:
                if self._queue:
                    self._queue[0].wake.release()  # it leads next; its post is not finished
                else:
                    self._leading = False

    def _write_group(self, jobs: list[_Waiting]) -> bool:
        """Write the queued posts (put in ``jobs``) in one transaction; False when it failed."""
        try:
            with transaction.atomic():  # on SQLite: waits here for the write lock
                with self._lock:  # then takes all that queued meanwhile
                    jobs.extend(self._queue)
                    self._queue = []
                do_submit_forms(jobs)
            return True
        except Exception:
            if not jobs:  # failed before taking the queue (e.g. BEGIN): take it now
                with self._lock:
                    jobs.extend(self._queue)
                    self._queue = []
            log.exception("a group of %s form posts could not be written; taking each alone", len(jobs))
            return False


intake = Intake()
