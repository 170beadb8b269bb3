"""Find *possible* duplicates: similar names at the same company or the same email domain.

They are only suggested — shown on both leads for a person to merge or dismiss, never merged
automatically. Dismissed pairs are never suggested again (one unique row per pair).

How it stays fast at a million leads (a scan runs after every import): leads are blocked by
family name (an indexed key) and, within it, by company or non-free-mail domain. Inside a block
the leads are sorted by name and each new lead is compared only with its few neighbours in that
order (the *sorted neighbourhood* method of record linkage): spelling variants of one name sort
next to each other, so the comparisons grow with n·log n instead of n² when a block is large
(four hundred "Smith" at one big company).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from itertools import groupby
from operator import itemgetter

from django.db import connection, transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from leadbase.leads.models import DuplicateStatus, Lead, PossibleDuplicate
from leadbase.lib.cleaning import names_agree
from leadbase.lib.freemail import is_free_mail

WINDOW = 4  # neighbours compared on each side in a block sorted by name
COLUMNS = ("id", "name", "name_key", "family_key", "company", "email_key")
ID, NAME, NAME_KEY, FAMILY_KEY, COMPANY, EMAIL_KEY = range(len(COLUMNS))
FAMILIES_PER_QUERY = 100
ROWS_PER_QUERY = 20_000  # members read by one query, all in memory until it is compared
PAIRS_PER_WRITE = 200  # suggestions written per transaction (see ``suggest_pairs``)


def scan_range(workspace_id: int, first_id: int, last_id: int) -> int:
    """Suggest pairs for the leads with ids in [first_id, last_id]; return how many pairs were
    suggested (pairs suggested or dismissed before are left as they are)."""
    base = Lead.objects.filter(workspace_id=workspace_id)
    families = sorted(
        set(
            base.filter(id__gte=first_id, id__lte=last_id)
            .exclude(family_key="")
            .values_list("family_key", flat=True)
            .iterator(chunk_size=5000)
        )
    )
    suggested = 0
    # The members of many families come with one query (a form post's scan has a family or
    # two, an import's thousands: one query each cost more than comparing their members), in
    # family order, and are compared one family at a time. Each query is read to its end before
    # any pair is written: on SQLite a write from a connection still reading an older snapshot
    # (other processes commit form posts all the time) fails at once as "database is locked".
    # So a query holds families of at most ROWS_PER_QUERY members in all (a bigger family
    # alone): memory stays bounded by that or the largest family, not the table.
    for chunk in _family_chunks(base, families):
        members = list(
            base.filter(family_key__in=chunk).order_by("family_key", "id").values_list(*COLUMNS)
        )
        for _, family in groupby(members, key=itemgetter(FAMILY_KEY)):
            suggested += _suggest(workspace_id, family, first_id, last_id)
    return suggested


def _family_chunks(base: QuerySet[Lead], families: list[str]) -> Iterator[list[str]]:
    """``families`` in runs of at most FAMILIES_PER_QUERY whose members number at most
    ROWS_PER_QUERY together (a family bigger than that is a run of its own)."""
    for start in range(0, len(families), FAMILIES_PER_QUERY):
        some = families[start : start + FAMILIES_PER_QUERY]
        sizes = dict(base.filter(family_key__in=some).order_by().values_list("family_key").annotate(n=Count("id")))
        chunk: list[str] = []
        rows = 0
        for family in some:
            size = sizes.get(family, 0)
            if chunk and rows + size > ROWS_PER_QUERY:
                yield chunk
                chunk, rows = [], 0
            chunk.append(family)
            rows += size
        if chunk:
            yield chunk


def _suggest(workspace_id: int, family: Iterable[tuple], first_id: int, last_id: int) -> int:
    """Suggest the pairs of one family's members that involve a lead of the range."""
    blocks: dict[str, list[tuple]] = defaultdict(list)
    for row in family:
        for key in _block_keys(row):
            blocks[key].append(row)
    pairs: dict[tuple[int, int], str] = {}
    for key, members in blocks.items():
        if len(members) < 2:
            continue
        members.sort(key=itemgetter(NAME_KEY, ID))
        for i, row in enumerate(members):
            if not first_id <= row[ID] <= last_id:
                continue
            for other in members[max(0, i - WINDOW) : i + WINDOW + 1]:
                if other[ID] == row[ID]:
                    continue
                pair = (min(row[ID], other[ID]), max(row[ID], other[ID]))
                if pair not in pairs and names_agree(row[NAME], other[NAME]):
                    pairs[pair] = "similar_name_company" if key.startswith("c:") else "similar_name_domain"
    if pairs:
        suggest_pairs(workspace_id, [(a, b, reason) for (a, b), reason in pairs.items()])
    return len(pairs)


def suggest_pairs(workspace_id: int, pairs: list[tuple[int, int, str]]) -> None:
    """Store ``(lead_a_id, lead_b_id, reason)`` pairs as open suggestions; a pair stored before,
    open or dismissed, is left as it is. Each pair must be ordered (``lead_a_id < lead_b_id``):
    the table's check refuses another with an IntegrityError.

    One plain statement run for each pair: through ``bulk_create`` (a model object per pair and
    its values prepared by the SQL compiler) the insert was half of a scan's time, most of the
    duplicate scan of a form post's lead.

    In transactions of ``PAIRS_PER_WRITE`` pairs: on SQLite a transaction holds the one write
    lock, which the web processes' form posts queue for. Run in autocommit mode, each pair was
    a commit of its own: the scan of five seconds of form posts held the lock for 35-50 ms at a
    time, several times in a row, and every post in flight waited that long.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = [(workspace_id, a, b, reason, 0, DuplicateStatus.OPEN.value, now) for a, b, reason in pairs]
    for start in range(0, len(rows), PAIRS_PER_WRITE):
        # A transaction of its own in autocommit mode; inside the caller's (an import's batch),
        # part of it, without a savepoint per chunk.
        with transaction.atomic(savepoint=False), connection.cursor() as cursor:
            cursor.executemany(_insert_pairs_sql(), rows[start : start + PAIRS_PER_WRITE])


@cache
def _insert_pairs_sql() -> str:
    quote = connection.ops.quote_name
    columns = ("workspace_id", "lead_a_id", "lead_b_id", "reason", "score", "status", "created_at")
    return (
        f"INSERT INTO {quote(PossibleDuplicate._meta.db_table)} ({', '.join(map(quote, columns))}) "
        f"VALUES ({', '.join(['%s'] * len(columns))}) ON CONFLICT DO NOTHING"
    )


def _block_keys(row: tuple) -> list[str]:
    keys = []
    if row[COMPANY]:
        keys.append("c:" + row[COMPANY].casefold().strip())
    if row[EMAIL_KEY]:
        domain = row[EMAIL_KEY].rpartition("@")[2]
        if not is_free_mail(domain):
            keys.append("d:" + domain)
    return keys
