"""Spam defences without third parties: honeypot, minimum fill time, proof of work, rate limits.

Every check runs on our own server with our own data; no visitor data leaves it.

- **Honeypot**: an input named ``fax`` hidden from people (off-screen, ``aria-hidden``, no tab
  stop). Form-filling bots fill every input they find; a value there is spam (see ``is_filled``).
- **Minimum fill time**: the page or embed script renders a signed timestamp ``lb_ts``; a post
  sooner than ``FORM_MIN_FILL_SECONDS`` after it, or with a forged token, is spam. A post
  *without* the field is not spam: plain HTML forms copied onto another site and server-side
  JSON clients cannot carry a fresh token, while the bots this check exists for (they load a
  form and post every input at once) carry it. A client that wants the check can take a token
  from ``GET /f/<slug>.json``. The rate limits and proof of work apply to everyone.
- **Proof of work** (per form, opt-in; needs JavaScript): the page hands out a signed challenge
  ``lb_pow``; the browser finds ``lb_nonce`` such that SHA-256(``challenge:nonce``) starts with
  ``POW_BITS`` zero bits (~260,000 hashes, solved while the visitor types). Each challenge is
  good once, for ``POW_MAX_AGE`` seconds.
- **Rate limits**: fixed one-minute windows per client address (IPv6: per /64) and per form,
  counted in ``RateBucket`` rows with one conditional UPDATE, so the limit holds across web
  processes and machines, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
import secrets
import time
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from leadbase.capture.errors import RateLimited
from leadbase.capture.models import Form, RateBucket, RefusedPosts
from leadbase.rows import select_in

HONEYPOT = "fax"
TOKEN_FIELD = "lb_ts"
POW_FIELD = "lb_pow"
NONCE_FIELD = "lb_nonce"
SPAM_FIELDS = frozenset({HONEYPOT, TOKEN_FIELD, POW_FIELD, NONCE_FIELD})

POW_BITS = 18
POW_MAX_AGE = 3600
WINDOW = timedelta(minutes=1)

_fill_signer = signing.Signer(salt="leadbase.capture.fill-time")
_pow_signer = signing.Signer(salt="leadbase.capture.pow")


def fill_token(form: Form) -> str:
    """A signed "rendered at" time for ``form`` (milliseconds), to put in ``lb_ts``."""
    return _fill_signer.sign(f"{form.slug}:{time.time_ns() // 1_000_000}")


def pow_challenge(form: Form) -> str:
    """A fresh signed challenge for ``form``: ``slug:issued_ms:random``."""
    return _pow_signer.sign(f"{form.slug}:{time.time_ns() // 1_000_000}:{secrets.token_hex(8)}")


def pow_solves(challenge: str, nonce: str, bits: int = POW_BITS) -> bool:
    """True when SHA-256(``challenge:nonce``) starts with ``bits`` zero bits."""
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return int.from_bytes(digest[:8], "big") >> (64 - bits) == 0


def solve_pow(challenge: str, bits: int = POW_BITS) -> str:
    """Find a nonce for ``challenge`` (what the browser script does; used by tests and tools)."""
    nonce = 0
    while not pow_solves(challenge, str(nonce), bits):
        nonce += 1
    return str(nonce)


def _signed_parts(signer: signing.Signer, token: Any, form: Form) -> list[str] | None:
    """The parts of a token signed for ``form``, or None when it is forged or for another form."""
    if not isinstance(token, str):
        return None
    try:
        parts = signer.unsign(token).split(":")
    except signing.BadSignature:
        return None
    if parts[0] != form.slug or not parts[1].isdigit():
        return None
    return parts


def is_filled(value: Any) -> bool:
    """True when the honeypot holds a value: anything but absent, ``null``, ``false`` or "".

    Our pages post the untouched input as "", and a JSON client may send ``null`` or ``false``
    for a field it leaves alone; a bot that fills the input types text or a number, ``0``
    included (hence ``is False``, not ``== False``: ``0 == False`` in Python). Any other value
    (a list, ``true``) is filled too, so that such a post gets the spam answer rather than a
    400 that names the honeypot.
    """
    return not (value is None or value is False or value == "")


def spam_reason(form: Form, payload: dict[str, Any]) -> str:
    """Why this post looks automated (``honeypot``, ``bad_token``, ``too_fast``, ``pow_*``), or "".

    Cheap checks first; the single-use proof-of-work record is written last, only for a post
    that passed everything else.
    """
    if is_filled(payload.get(HONEYPOT)):
        return "honeypot"
    token = payload.get(TOKEN_FIELD)
    now_ms = time.time_ns() // 1_000_000
    if settings.FORM_MIN_FILL_SECONDS > 0 and token not in (None, ""):
        parts = _signed_parts(_fill_signer, token, form)
        if parts is None:
            return "bad_token"
        if now_ms - int(parts[1]) < settings.FORM_MIN_FILL_SECONDS * 1000:
            return "too_fast"
    if form.proof_of_work:
        return _pow_reason(form, payload, now_ms)
    return ""


def _pow_reason(form: Form, payload: dict[str, Any], now_ms: int) -> str:
    challenge, nonce = payload.get(POW_FIELD), payload.get(NONCE_FIELD)
    if not challenge or not isinstance(nonce, str) or not nonce:
        return "pow_missing"
    parts = _signed_parts(_pow_signer, challenge, form)
    if parts is None or len(parts) != 3 or len(nonce) > 20 or not pow_solves(challenge, nonce):
        return "pow_invalid"
    if now_ms - int(parts[1]) > POW_MAX_AGE * 1000:
        return "pow_expired"
    # Spend the challenge: the unique key makes a second use fail in every process.
    try:
        with transaction.atomic():
            RateBucket.objects.create(key=f"pow:{parts[2]}", window_start=timezone.now(), count=1)
    except IntegrityError:
        return "pow_reused"
    return ""


def ip_key(ip: str | None) -> str:
    """The rate-limit key of a client address: the address, or its /64 for IPv6."""
    if not ip:
        return ""
    address = ipaddress.ip_address(ip)
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return f"ip:{address.ipv4_mapped}"
        return f"ip:{ipaddress.ip_network(f'{ip}/64', strict=False).network_address}/64"
    return f"ip:{address}"


_TAKE_SQL = (
    'UPDATE "{table}" SET "count" = CASE WHEN "window_start" <= %s THEN 1 ELSE "count" + 1 END, '
    '"window_start" = CASE WHEN "window_start" <= %s THEN %s ELSE "window_start" END '
    'WHERE "key" = %s AND ("window_start" <= %s OR "count" < %s)'
)


def take(key: str, limit: int, now: datetime, window: timedelta = WINDOW) -> int:
    """Count one hit on ``key``'s current window (a minute, or ``window``, at most an hour: older
    rows are pruned): 0 when allowed, else seconds until it resets.

    One conditional UPDATE either starts a new window (the old one ended) or increments a window
    that is under the limit; the database serializes concurrent updates of the row, so two
    processes can never both take the last slot. Both SET expressions read the row as it was
    (standard SQL, SQLite and PostgreSQL alike). A missing row is inserted; when a concurrent
    request inserted it first, the UPDATE is tried again. Plain SQL: this runs on every post, and
    the ORM's expression compiler costs ten times the statement.
    """
    adapt = connection.ops.adapt_datetimefield_value
    cutoff, at = adapt(now - window), adapt(now)
    sql = _TAKE_SQL.format(table=RateBucket._meta.db_table)
    for _ in range(2):
        with connection.cursor() as cursor:
            cursor.execute(sql, [cutoff, cutoff, at, key, cutoff, limit])
            if cursor.rowcount:
                return 0
        try:
            with transaction.atomic():
                RateBucket.objects.create(key=key, window_start=now, count=1)
            return 0
        except IntegrityError:
            continue
    started = (
        RateBucket.objects.filter(key=key).values_list("window_start", flat=True).first() or now
    )
    return max(1, math.ceil((started + window - now).total_seconds()))


def check_rate_limits(form: Form, ip: str | None, now: datetime) -> None:
    """Raise RateLimited when the client address or the form used up this minute's quota.

    A limit of 0 turns that limit off. About one call in a thousand also deletes stale windows,
    so the table stays as small as the number of recently seen addresses, with no cron job.
    """
    if secrets.randbelow(1000) == 0:
        prune_buckets(now)
    for key, limit, scope in _limits(form, ip):
        wait = take(key, limit, now)
        if wait:
            raise RateLimited(scope, wait)


def _limits(form: Form, ip: str | None) -> list[tuple[str, int, str]]:
    """The (key, limit, scope) of each rate limit a post to ``form`` from ``ip`` counts against."""
    limits = []
    per_ip = ip_key(ip)
    if settings.FORM_RATE_PER_IP > 0 and per_ip:
        limits.append((per_ip, settings.FORM_RATE_PER_IP, "ip"))
    if settings.FORM_RATE_PER_FORM > 0:
        limits.append((f"form:{form.pk}", settings.FORM_RATE_PER_FORM, "form"))
    return limits


def count_refused(counts: dict[int, int], now: datetime) -> None:
    """Add ``counts`` (form id -> posts refused over a rate limit) to each form's
    ``RefusedPosts``, with one statement."""
    table = RefusedPosts._meta.db_table
    at = connection.ops.adapt_datetimefield_value(now)
    with connection.cursor() as cursor:
        cursor.executemany(
            f'INSERT INTO "{table}" ("form_id", "count", "last_at") VALUES (%s, %s, %s) '
            f'ON CONFLICT ("form_id") DO UPDATE SET "count" = "{table}"."count" + excluded."count", '
            '"last_at" = excluded."last_at"',
            [(form_id, n, at) for form_id, n in sorted(counts.items())],
        )


class Quotas:
    """The rate-limit windows of a group of posts written in one transaction (see
    ``leadbase.capture.intake``): read with one query, counted in memory post by post as
    ``check_rate_limits`` counts them, and written back with one statement.

    Meant for a transaction that holds the database's write lock from its start (SQLite's
    ``BEGIN IMMEDIATE``): no other process can move a window between the read and the write.
    Elsewhere the rows read are locked (``FOR UPDATE``) until the transaction ends.
    """

    def __init__(self, posts: list[tuple[Form, str | None]], now: datetime) -> None:
        self.now, self._cutoff = now, now - WINDOW
        self._limits = [_limits(form, ip) for form, ip in posts]
        keys = sorted({key for limits in self._limits for key, _, _ in limits})
        self._windows: dict[str, list[Any]] = {}  # key -> [window start, count]
        # Plain SQL built once: the ORM compiled this query anew for every group.
        for key, start, count in select_in(
            RateBucket, ("key", "window_start", "count"), "key", keys, for_update=True
        ):
            self._windows[key] = [start, count]
        self._changed: set[str] = set()
        if secrets.randbelow(1000) < len(posts):  # as often as check_rate_limits would
            prune_buckets(now)

    def check(self, post: int) -> None:
        """Raise RateLimited when post number ``post`` (in the order given) is over a limit."""
        for key, limit, scope in self._limits[post]:
            window = self._windows.get(key)
            if window is not None and window[0] > self._cutoff and window[1] >= limit:
                wait = math.ceil((window[0] + WINDOW - self.now).total_seconds())
                raise RateLimited(scope, max(1, wait))

    def take(self, post: int) -> None:
        """Count post number ``post`` against each of its limits."""
        for key, _, _ in self._limits[post]:
            window = self._windows.get(key)
            if window is None or window[0] <= self._cutoff:
                self._windows[key] = [self.now, 1]
            else:
                window[1] += 1
            self._changed.add(key)

    def save(self) -> None:
        if not self._changed:
            return
        adapt = connection.ops.adapt_datetimefield_value
        table = RateBucket._meta.db_table
        windows = [(key, *self._windows[key]) for key in sorted(self._changed)]
        with connection.cursor() as cursor:
            cursor.executemany(
                f'INSERT INTO "{table}" ("key", "window_start", "count") VALUES (%s, %s, %s) '
                'ON CONFLICT ("key") DO UPDATE SET "window_start" = excluded."window_start", '
                '"count" = excluded."count"',
                [(key, adapt(start), count) for key, start, count in windows],
            )


def prune_buckets(now: datetime) -> int:
    """Delete windows that ended long ago and spent challenges that expired; returns the count."""
    stale = now - max(WINDOW, timedelta(seconds=POW_MAX_AGE)) - WINDOW
    return RateBucket.objects.filter(window_start__lt=stale).delete()[0]
